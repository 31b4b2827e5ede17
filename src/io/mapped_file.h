// Read-only mmap of a whole file. Pages are faulted in on demand, so "opening" a 5 GB shard costs
// nothing until tensors are touched. Or, with Residency::Ram (--no-mmap, or io/residency.h's
// automatic choice when the checkpoint fits), the whole file read once into a HugePageBuffer
// (util/huge_page_buffer.h says why): the load reads every byte
// and the process holds the file's size in RAM, but decode then streams its weights with a page
// walk every 2 MB instead of every 4 KB (the BF16 experts phase: 9.5-10.7 ms against 13.7-15.0 ms
// mapped, docs/perf-engine.md round 3). The descriptor stays open for pread(): a single streaming
// pass that copies into a reused buffer avoids mapping every 4 KiB page (page-table population costs
// ~2 us/page in a VM, see docs/perf-io.md), so it is the faster way to read a tensor once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "util/huge_page_buffer.h"

namespace mixq {

enum class Residency { Mapped, Ram };

class MappedFile {
 public:
  // InputError when it cannot be opened (or read, for Ram).
  explicit MappedFile(const std::string& path, Residency residency = Residency::Mapped);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  Residency residency() const { return residency_; }
  // Bytes of data() backed by huge pages right now (from /proc/self/smaps; 0 when mapped, or when
  // the kernel had none to give).
  size_t huge_page_bytes() const;
  // Tell the kernel a range will be read soon / is no longer needed (streaming passes).
  void will_need(size_t offset, size_t len) const;
  void dont_need(size_t offset, size_t len) const;
  // Copies [offset, offset + len) into dst with pread (InputError on a short read / I/O error).
  void read(size_t offset, size_t len, void* dst) const;
  // Residency::Ram until seal(): the bytes [p, p + n) as writable memory when they lie inside
  // data() (the engine rewrites INT4 weights in place into its interleaved layout, so the RAM copy
  // is the only copy); nullptr otherwise. seal() makes the RAM copy read-only, like the mapping.
  uint8_t* writable(const void* p, size_t n);
  void seal();

 private:
  std::string path_;
  Residency residency_ = Residency::Mapped;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  HugePageBuffer ram_;  // Residency::Ram: the file's bytes (data_ points here)
  bool sealed_ = false;
  int fd_ = -1;
};

}  // namespace mixq
