// Read-only mmap of a whole file. Pages are faulted in on demand, so "opening" a 5 GB shard costs
// nothing until tensors are touched. The descriptor stays open for pread(): a single streaming pass
// that copies into a reused buffer avoids mapping every 4 KiB page (page-table population costs
// ~2 us/page in a VM, see docs/perf-io.md), so it is the faster way to read a tensor once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mixq {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // InputError when it cannot be opened
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Tell the kernel a range will be read soon / is no longer needed (streaming passes).
  void will_need(size_t offset, size_t len) const;
  void dont_need(size_t offset, size_t len) const;
  // Copies [offset, offset + len) into dst with pread (InputError on a short read / I/O error).
  void read(size_t offset, size_t len, void* dst) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
};

}  // namespace mixq
