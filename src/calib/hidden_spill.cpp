#include "calib/hidden_spill.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/checkpoint.h"
#include "util/error.h"
#include "util/log.h"

namespace mixq::calib {

std::unique_ptr<HiddenSpill> HiddenSpill::attach(Matrix& m, const std::string& dir) {
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  const auto p = reinterpret_cast<uintptr_t>(m.data.data());
  const uint64_t bytes = uint64_t(m.numel()) * 4;
  const uintptr_t begin = (p + page - 1) / page * page, end = (p + bytes) / page * page;
  if (bytes == 0 || end <= begin) return nullptr;
  const uint64_t len = end - begin;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the directory for the AWQ hidden-state spill: {}", dir, ec.message());
  const std::string path = path_join(dir, "hidden_spill." + std::to_string(getpid()));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("{}: cannot create the AWQ hidden-state spill file: {}", path, std::strerror(errno));
  ::unlink(path.c_str());  // lives as long as the mapping; nothing left behind, even after kill -9
  auto bail = [&](const char* what, int e) {
    ::close(fd);
    fail("{}: {} for the AWQ hidden-state spill ({} bytes): {} (more disk, or a larger --calib-memory)", dir, what, len,
         std::strerror(e));
  };
  if (int e = ::posix_fallocate(fd, 0, off_t(len)); e != 0) bail("cannot reserve disk space", e);
  // The buffer's current content goes to the file first, then the file replaces those pages.
  for (uint64_t off = 0; off < len;) {
    ssize_t n = ::pwrite(fd, reinterpret_cast<const char*>(begin) + off, size_t(std::min<uint64_t>(len - off, 64u << 20)), off_t(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) bail("cannot write", n < 0 ? errno : EIO);
    off += uint64_t(n);
  }
  void* r = ::mmap(reinterpret_cast<void*>(begin), len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  if (r == MAP_FAILED) bail("cannot map", errno);  // fails the run: the buffer may have lost those pages
  ::close(fd);
  MIXQ_INFO("awq: hidden states ({:.1f} MiB) spilled to a file-backed mapping in {}", double(len) / (1 << 20), dir);
  return std::unique_ptr<HiddenSpill>(new HiddenSpill(m.data.data(), reinterpret_cast<char*>(begin), len));
}

bool HiddenSpill::covers(const Matrix& m) const {
  const auto p = reinterpret_cast<uintptr_t>(m.data.data()), b = reinterpret_cast<uintptr_t>(begin_);
  return m.data.data() == buffer_ && p + uint64_t(m.numel()) * 4 >= b + len_;
}

void HiddenSpill::release_resident() const { ::madvise(begin_, len_, MADV_DONTNEED); }

}  // namespace mixq::calib
