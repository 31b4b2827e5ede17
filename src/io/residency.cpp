#include "io/residency.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace mixq {
namespace {

namespace fs = std::filesystem;

uint64_t safetensors_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".safetensors") continue;
    const uint64_t n = it->file_size(ec);
    if (!ec) total += n;
    ec.clear();
  }
  return total;
}

}  // namespace

uint64_t mem_available() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string key;
    uint64_t kb = 0;
    if (s >> key >> kb && key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

ResidencyChoice auto_residency(const std::vector<std::string>& model_dirs, std::optional<uint64_t> available) {
  ResidencyChoice c;
  for (const auto& d : model_dirs) c.weight_bytes += safetensors_bytes(d);
  c.available_bytes = available ? *available : mem_available();
  const double gb = 1e9;
  if (c.weight_bytes == 0 || c.available_bytes == 0) {
    c.why = c.weight_bytes == 0 ? "mapped (auto: no .safetensors files found)" : "mapped (auto: available memory unknown)";
  } else if (c.weight_bytes <= c.available_bytes / 2) {
    c.residency = Residency::Ram;
    c.why = fmt::format("read into RAM (auto: {:.2f} GB of weights fit in half of the {:.1f} GB available; --mmap maps them)",
                        c.weight_bytes / gb, c.available_bytes / gb);
  } else {
    c.why = fmt::format("mapped (auto: {:.2f} GB of weights exceed half of the {:.1f} GB available; --no-mmap reads them)",
                        c.weight_bytes / gb, c.available_bytes / gb);
  }
  return c;
}

}  // namespace mixq
