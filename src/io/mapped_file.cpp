#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace mixq {

MappedFile::MappedFile(const std::string& path, Residency residency) : path_(path), residency_(residency) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("{}: not a regular file", path);
  }
  size_ = size_t(st.st_size);
  fd_ = fd;
  if (size_ > 0 && residency == Residency::Ram) {
    // Read with pread into huge-page memory: no page of the file is mapped.
    try {
      ram_ = HugePageBuffer(size_);
    } catch (const InputError& e) {
      ::close(fd_);
      fail("{}: to hold it in RAM (--no-mmap): {}", path, e.what());
    }
    try {
      read(0, size_, ram_.data());
    } catch (...) {
      ::close(fd_);
      throw;
    }
    data_ = ram_.data();  // writable until seal()
    return;
  }
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail("{}: mmap failed: {}", path, std::strerror(errno));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
}

MappedFile::~MappedFile() {
  if (data_ && residency_ == Residency::Mapped) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

size_t MappedFile::huge_page_bytes() const { return ram_.huge_page_bytes(); }

uint8_t* MappedFile::writable(const void* p, size_t n) {
  if (residency_ != Residency::Ram || sealed_ || !data_) return nullptr;
  const auto* b = static_cast<const uint8_t*>(p);
  if (b < data_ || b > data_ + size_ || n > size_t(data_ + size_ - b)) return nullptr;
  return ram_.data() + (b - data_);
}

void MappedFile::seal() {
  if (residency_ == Residency::Ram && !sealed_ && data_) ram_.make_read_only();
  sealed_ = true;
}

void MappedFile::read(size_t off, size_t len, void* dst) const {
  MIXQ_ASSERT(off <= size_ && len <= size_ - off);
  auto* d = static_cast<uint8_t*>(dst);
  while (len > 0) {
    ssize_t r = ::pread(fd_, d, len, off_t(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail("{}: read of {} bytes at offset {} failed: {}", path_, len, off, r < 0 ? std::strerror(errno) : "file shrank");
    d += r;
    off += size_t(r);
    len -= size_t(r);
  }
}

static void advise(const uint8_t* base, size_t size, size_t off, size_t len, int how) {
  if (!base || off >= size) return;
  long page = ::sysconf(_SC_PAGESIZE);
  size_t start = off / size_t(page) * size_t(page);
  size_t end = std::min(size, off + len);
  ::madvise(const_cast<uint8_t*>(base) + start, end - start, how);
}

void MappedFile::will_need(size_t off, size_t len) const { advise(data_, size_, off, len, MADV_WILLNEED); }
void MappedFile::dont_need(size_t off, size_t len) const { advise(data_, size_, off, len, MADV_DONTNEED); }

}  // namespace mixq
