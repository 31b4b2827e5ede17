// Anonymous memory advised as 2 MB transparent huge pages: the weights read with --no-mmap
// (io/mapped_file.h), the KV cache (runtime/kv_cache.h) and the bandwidth probe's buffer
// (kernels/cpu/bandwidth.h) live in it.
// Why: a stream that crosses a 4 KB page needs a page walk, and in a VM (nested paging) a walk
// costs about as much as streaming the page; with 2 MB pages the walks vanish. The probe must use
// the same pages as the weights it is the roofline for. MADV_HUGEPAGE is advice: without free
// huge pages the kernel falls back to 4 KB pages, which huge_page_bytes() reports.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mixq {

class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  explicit HugePageBuffer(size_t bytes);  // InputError when the memory cannot be had
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer&& o) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& o) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  uint8_t* data() const { return data_; }  // 2 MB-aligned (untouched pages read as zero)
  size_t size() const { return size_; }
  void make_read_only();  // after filling it
  // Bytes of the buffer backed by huge pages right now (from /proc/self/smaps).
  size_t huge_page_bytes() const;

 private:
  void release();
  void* region_ = nullptr;
  size_t region_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace mixq
