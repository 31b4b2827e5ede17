#include "calib/awq_resume_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <unistd.h>

#include "io/checkpoint.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"
#include "util/sha256.h"

namespace mixq::calib {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'M', 'I', 'X', 'Q', 'A', 'W', 'Q', 'H'};
constexpr uint32_t kVersion = 1;
constexpr size_t kChunk = 16u << 20;  // payload streamed in 16 MiB pieces (hash while reading)

// Header layout (little-endian host order; the file is only read back on the machine that wrote it):
//   0 magic[8]  8 u32 version  12 i32 layer  16 i64 rows  24 i64 cols  32 fingerprint hex[64]
//   96 payload sha256 hex[64]  160 payload
struct Header {
  char magic[8];
  uint32_t version;
  int32_t layer;
  int64_t rows, cols;
  char fingerprint[64];
  char payload_sha[64];
};
static_assert(sizeof(Header) == kHiddenStateHeaderBytes);

struct FileCloser {
  void operator()(FILE* f) const { if (f) std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

std::string payload_sha(const float* data, uint64_t bytes) {
  Sha256 h;
  const char* p = reinterpret_cast<const char*>(data);
  for (uint64_t off = 0; off < bytes; off += kChunk) h.update(p + off, size_t(std::min<uint64_t>(kChunk, bytes - off)));
  return h.hex();
}

// "<prefix><digits><suffix>" -> the number; nullopt for anything else (temps, foreign files).
std::optional<int> layer_of_file(const std::string& name, const std::string& prefix, const std::string& suffix) {
  if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoi(digits);
}

void fsync_dir_of(const std::string& path) { fsync_path(fs::path(path).parent_path().string()); }

}  // namespace

void write_hidden_state(const std::string& path, int layer, const std::string& fingerprint, const float* data, int64_t rows,
                        int64_t cols) {
  MIXQ_ASSERT(fingerprint.size() == 64 && rows > 0 && cols > 0);
  const uint64_t bytes = uint64_t(rows) * uint64_t(cols) * 4;
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.layer = layer;
  h.rows = rows;
  h.cols = cols;
  std::memcpy(h.fingerprint, fingerprint.data(), 64);
  std::string sha = payload_sha(data, bytes);
  std::memcpy(h.payload_sha, sha.data(), 64);
  write_file_atomic(path, {std::string_view(reinterpret_cast<const char*>(&h), sizeof h),
                           std::string_view(reinterpret_cast<const char*>(data), size_t(bytes))});
  fsync_dir_of(path);
}

StateLoad read_hidden_state(const std::string& path, int layer, const std::string& fingerprint, int64_t rows, int64_t cols,
                            float* out) {
  auto corrupt = [&](const std::string& why) { return StateLoad{StateCheck::Corrupt, fmt::format("{}: {}", path, why)}; };
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return {StateCheck::Missing, ""};
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return corrupt("cannot stat: " + ec.message());
  if (size < sizeof(Header)) return corrupt(fmt::format("truncated ({} bytes, header alone is {})", size, sizeof(Header)));
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return corrupt(std::string("cannot open: ") + std::strerror(errno));
  Header h;
  if (std::fread(&h, sizeof h, 1, f.get()) != 1) return corrupt("cannot read the header");
  if (std::memcmp(h.magic, kMagic, 8) != 0) return corrupt("bad magic (not a mixq AWQ hidden state)");
  if (h.version != kVersion) return corrupt(fmt::format("version {} (this mixq reads {})", h.version, kVersion));
  if (std::string(h.fingerprint, 64) != fingerprint)
    return {StateCheck::Foreign, fmt::format("{}: written for other inputs or options (fingerprint {}...)", path, std::string(h.fingerprint, 12))};
  if (h.layer != layer) return corrupt(fmt::format("header says layer {}, the file name {}", h.layer, layer));
  if (h.rows != rows || h.cols != cols) return corrupt(fmt::format("shape [{}, {}], expected [{}, {}]", h.rows, h.cols, rows, cols));
  const uint64_t bytes = uint64_t(rows) * uint64_t(cols) * 4;  // from the caller, never from the file
  if (size != sizeof(Header) + bytes) return corrupt(fmt::format("{} bytes, expected {} (truncated or padded)", size, sizeof(Header) + bytes));
  Sha256 sha;
  char* p = reinterpret_cast<char*>(out);
  for (uint64_t off = 0; off < bytes; off += kChunk) {
    size_t n = size_t(std::min<uint64_t>(kChunk, bytes - off));
    if (std::fread(p + off, 1, n, f.get()) != n) return corrupt("short read");
    sha.update(p + off, n);
  }
  if (sha.hex() != std::string(h.payload_sha, 64)) return corrupt("payload checksum mismatch");
  return {StateCheck::Ok, ""};
}

AwqResumeState::AwqResumeState(std::string dir, std::string fingerprint, int64_t rows, int64_t cols)
    : dir_(std::move(dir)), fingerprint_(std::move(fingerprint)), rows_(rows), cols_(cols) {
  MIXQ_ASSERT(fingerprint_.size() == 64);
}

std::string AwqResumeState::hidden_path(int layer) const { return path_join(dir_, fmt::format("hidden_{}.bin", layer)); }
std::string AwqResumeState::report_path(int layer) const { return path_join(dir_, fmt::format("layer_{}.json", layer)); }

void AwqResumeState::ensure_dir() {
  if (dir_ready_) return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) fail("{}: cannot create the AWQ resume state directory: {}", dir_, ec.message());
  // Temporaries of a killed run ("<file>.tmp.<pid>"): never complete, never read.
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path(), ec);
  dir_ready_ = true;
}

void AwqResumeState::save_report(int layer, const nlohmann::ordered_json& report) {
  ensure_dir();
  nlohmann::ordered_json j;
  j["fingerprint"] = fingerprint_;
  j["layer"] = layer;
  j["report"] = report;
  write_file_atomic(report_path(layer), j.dump() + "\n");
  fsync_path(dir_);
}

std::optional<nlohmann::ordered_json> AwqResumeState::load_report(int layer) const {
  const std::string p = report_path(layer);
  if (!file_exists(p)) return std::nullopt;
  // A layer's report is ~50 KB at real size (256 experts); anything far larger is not ours.
  if (file_size(p) > (64u << 20)) {
    MIXQ_WARN("awq: ignoring resume report {}: {} bytes, not a layer report", p, file_size(p));
    return std::nullopt;
  }
  std::string text;
  try {
    text = read_file(p);
  } catch (const std::exception& e) {
    MIXQ_WARN("awq: ignoring resume report {}: {}", p, e.what());
    return std::nullopt;
  }
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("report") || !j["report"].is_object() ||
      !j.contains("layer") || !j["layer"].is_number_integer() || !j.contains("fingerprint") || !j["fingerprint"].is_string()) {
    MIXQ_WARN("awq: ignoring resume report {}: not a mixq AWQ layer report (truncated or corrupt)", p);
    return std::nullopt;
  }
  if (j["fingerprint"].get<std::string>() != fingerprint_) {
    MIXQ_INFO("awq: ignoring resume report {}: written for other inputs or options", p);
    return std::nullopt;
  }
  if (j["layer"].get<int64_t>() != layer) {
    MIXQ_WARN("awq: ignoring resume report {}: it is layer {}'s", p, j["layer"].get<int64_t>());
    return std::nullopt;
  }
  return j["report"];
}

std::vector<int> AwqResumeState::hidden_layers() const {
  std::vector<int> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (auto l = layer_of_file(e.path().filename().string(), "hidden_", ".bin")) out.push_back(*l);
  std::sort(out.begin(), out.end());
  return out;
}

void AwqResumeState::save_hidden(int layer, const float* data) {
  ensure_dir();
  write_hidden_state(hidden_path(layer), layer, fingerprint_, data, rows_, cols_);
  prune();
}

void AwqResumeState::prune() {
  std::vector<int> have = hidden_layers();
  if (have.size() <= 1) return;
  int keep_floor = -1;
  for (int l : have)
    if (l <= floor_) keep_floor = l;
  const int newest = have.back();
  std::error_code ec;
  for (int l : have)
    if (l != keep_floor && l != newest) fs::remove(hidden_path(l), ec);
}

std::optional<int> AwqResumeState::load_newest_hidden(int max_layer, float* out, std::string* from) {
  std::vector<int> have = hidden_layers();
  for (auto it = have.rbegin(); it != have.rend(); ++it) {
    if (*it > max_layer) continue;
    const std::string p = hidden_path(*it);
    StateLoad r = read_hidden_state(p, *it, fingerprint_, rows_, cols_, out);
    if (r.status == StateCheck::Ok) {
      if (from) *from = p;
      return *it;
    }
    if (r.status == StateCheck::Foreign) MIXQ_INFO("awq: ignoring resume state {}; recomputing", r.why);
    else if (r.status == StateCheck::Corrupt) MIXQ_WARN("awq: ignoring resume state {}; recomputing", r.why);
    std::error_code ec;
    fs::remove(p, ec);  // never useful again: this job rewrites it when it gets there
  }
  return std::nullopt;
}

void AwqResumeState::remove_all() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) MIXQ_WARN("awq: could not remove the resume state {}: {}", dir_, ec.message());
  dir_ready_ = false;
}

}  // namespace mixq::calib
