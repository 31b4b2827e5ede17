#include "util/huge_page_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "util/error.h"

namespace mixq {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}

HugePageBuffer::HugePageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  // One extra huge page so that an aligned start can be chosen inside the region.
  region_size_ = bytes + kHugePage;
  region_ = ::mmap(nullptr, region_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region_ == MAP_FAILED) {
    region_ = nullptr;
    fail("cannot allocate {} bytes of memory: {}", bytes, std::strerror(errno));
  }
  data_ = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(region_) + kHugePage - 1) & ~uintptr_t(kHugePage - 1));
  ::madvise(data_, bytes, MADV_HUGEPAGE);
}

HugePageBuffer::~HugePageBuffer() { release(); }

HugePageBuffer::HugePageBuffer(HugePageBuffer&& o) noexcept
    : region_(std::exchange(o.region_, nullptr)),
      region_size_(std::exchange(o.region_size_, 0)),
      data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& o) noexcept {
  if (this != &o) {
    release();
    region_ = std::exchange(o.region_, nullptr);
    region_size_ = std::exchange(o.region_size_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void HugePageBuffer::release() {
  if (region_) ::munmap(region_, region_size_);
  region_ = nullptr;
  data_ = nullptr;
  size_ = region_size_ = 0;
}

void HugePageBuffer::make_read_only() {
  if (region_) ::mprotect(region_, region_size_, PROT_READ);
}

size_t HugePageBuffer::huge_page_bytes() const {
  if (!region_) return 0;
  // /proc/self/smaps: a header line "start-end perms ..." per mapping, then "Key: value kB" lines.
  std::ifstream f("/proc/self/smaps");
  const uintptr_t lo = reinterpret_cast<uintptr_t>(region_), hi = lo + region_size_;
  std::string line;
  bool in = false;
  size_t kb = 0;
  while (std::getline(f, line)) {
    unsigned long a = 0, b = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> a >> dash >> b && dash == '-') {
      in = a < hi && b > lo;
      continue;
    }
    if (in && line.rfind("AnonHugePages:", 0) == 0) kb += std::stoul(line.substr(14));
  }
  return kb * 1024;
}

}  // namespace mixq
