#include "io/safetensors_reader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>

#include "util/error.h"

namespace mixq {

namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference library's limit (100 MB)

uint64_t read_u64le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Parses the header JSON, rejecting duplicate top-level names (nlohmann would keep the last one).
nlohmann::json parse_header_json(std::string_view text, const std::string& what) {
  std::set<std::string> seen;
  std::string dup;
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    if (depth == 1 && ev == nlohmann::json::parse_event_t::key) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!seen.insert(k).second && dup.empty()) dup = k;
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end(), cb);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: header is not valid JSON ({})", what, e.what());
  }
  if (!dup.empty()) fail("{}: tensor '{}' appears twice in the header", what, dup);
  if (!j.is_object()) fail("{}: header must be a JSON object", what);
  return j;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const uint8_t* data, size_t size, const std::string& what) {
  if (size < 8) fail("{}: truncated: {} bytes, need at least 8 for the header length", what, size);
  const uint64_t n = read_u64le(data);
  if (n > kMaxHeader) fail("{}: header length {} exceeds the 100 MB limit", what, n);
  if (n > size - 8) fail("{}: header length {} runs past the end of the file ({} bytes)", what, n, size);
  if (n < 2 || data[8] != '{') fail("{}: header does not start with '{{'", what);

  SafetensorsHeader h;
  h.data_start = 8 + n;
  const uint64_t data_len = size - h.data_start;
  auto j = parse_header_json(std::string_view(reinterpret_cast<const char*>(data + 8), size_t(n)), what);

  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail("{}: __metadata__ must be an object of strings", what);
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail("{}: __metadata__['{}'] must be a string", what, m.key());
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) fail("{}: tensor '{}': entry must be an object", what, name);
    for (auto f = v.begin(); f != v.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        fail("{}: tensor '{}': unknown field '{}'", what, name, f.key());
    TensorInfo t;
    t.name = name;
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail("{}: tensor '{}': missing string 'dtype'", what, name);
    auto dt = dtype_from_name(v["dtype"].get<std::string>());
    if (!dt) fail("{}: tensor '{}': unknown dtype '{}'", what, name, v["dtype"].get<std::string>());
    t.dtype = *dt;
    if (!v.contains("shape") || !v["shape"].is_array()) fail("{}: tensor '{}': missing array 'shape'", what, name);
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail("{}: tensor '{}': shape entries must be non-negative integers", what, name);
      uint64_t dv = d.get<uint64_t>();
      if (dv > uint64_t(std::numeric_limits<int64_t>::max())) overflow = true;
      t.shape.push_back(int64_t(dv));
      if (dv != 0 && numel > std::numeric_limits<uint64_t>::max() / dv) overflow = true;
      else numel *= dv;
    }
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
        !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned())
      fail("{}: tensor '{}': 'data_offsets' must be two non-negative integers", what, name);
    t.begin = v["data_offsets"][0].get<uint64_t>();
    t.end = v["data_offsets"][1].get<uint64_t>();
    if (t.begin > t.end) fail("{}: tensor '{}': data_offsets begin {} > end {}", what, name, t.begin, t.end);
    if (t.end > data_len)
      fail("{}: tensor '{}': data_offsets end {} is past the data section ({} bytes)", what, name, t.end, data_len);
    const uint64_t es = dtype_size(t.dtype);
    if (overflow || numel > std::numeric_limits<uint64_t>::max() / es)
      fail("{}: tensor '{}': shape {} overflows", what, name, shape_str(t.shape));
    if (t.end - t.begin != numel * es)
      fail("{}: tensor '{}': holds {} bytes but {} x {} needs {}", what, name, t.end - t.begin,
           dtype_name(t.dtype), shape_str(t.shape), numel * es);
    h.tensors.push_back(std::move(t));
  }
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  for (const auto& t : h.tensors) {
    if (t.begin < pos) fail("{}: tensor '{}': bytes [{}, {}) overlap the previous tensor", what, t.name, t.begin, t.end);
    if (t.begin > pos) fail("{}: tensor '{}': gap before offset {} (data must be contiguous)", what, t.name, t.begin);
    pos = t.end;
  }
  if (pos != data_len)
    fail("{}: data section is {} bytes but the tensors cover {} (truncated or trailing bytes)", what, data_len, pos);
  return h;
}

SafetensorsFile::SafetensorsFile(const std::string& path, Residency residency)
    : file_(std::make_unique<MappedFile>(path, residency)) {
  header_ = parse_safetensors_header(file_->data(), file_->size(), path);
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

TensorView SafetensorsFile::view(const TensorInfo& t) const {
  return TensorView{t.name, t.dtype, t.shape, file_->data() + header_.data_start + t.begin, size_t(t.end - t.begin)};
}

void SafetensorsFile::read(const TensorInfo& t, void* dst, uint64_t offset, uint64_t n) const {
  const uint64_t size = t.end - t.begin;
  MIXQ_ASSERT(offset <= size);
  if (n > size - offset) n = size - offset;
  file_->read(size_t(header_.data_start + t.begin + offset), size_t(n), dst);
}

TensorView SafetensorsFile::view(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) fail("{}: no tensor named '{}'", path(), name);
  return view(*t);
}

}  // namespace mixq
