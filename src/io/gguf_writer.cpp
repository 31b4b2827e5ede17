#include "io/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"
#include "util/file_util.h"

namespace mixq::gguf {

namespace {

template <typename T>
void put(std::string& s, T v) { s.append(reinterpret_cast<const char*>(&v), sizeof(T)); }
void put_str(std::string& s, const std::string& v) { put<uint64_t>(s, v.size()); s += v; }

void put_value(std::string& s, const Value& v) {
  switch (v.type) {
    case ValueType::U8: case ValueType::BOOL: put<uint8_t>(s, uint8_t(v.u)); break;
    case ValueType::I8: put<int8_t>(s, int8_t(v.i)); break;
    case ValueType::U16: put<uint16_t>(s, uint16_t(v.u)); break;
    case ValueType::I16: put<int16_t>(s, int16_t(v.i)); break;
    case ValueType::U32: put<uint32_t>(s, uint32_t(v.u)); break;
    case ValueType::I32: put<int32_t>(s, int32_t(v.i)); break;
    case ValueType::F32: put<float>(s, float(v.f)); break;
    case ValueType::U64: put<uint64_t>(s, v.u); break;
    case ValueType::I64: put<int64_t>(s, v.i); break;
    case ValueType::F64: put<double>(s, v.f); break;
    case ValueType::STRING: put_str(s, v.str); break;
    case ValueType::ARRAY:
      MIXQ_ASSERT(v.elem != ValueType::ARRAY);
      put<int32_t>(s, int32_t(v.elem));
      put<uint64_t>(s, v.count());
      if (v.elem == ValueType::STRING) for (const auto& x : v.strs) put_str(s, x);
      else s.append(reinterpret_cast<const char*>(v.raw.data()), v.raw.size());
      break;
  }
}

}  // namespace

std::string serialize_header(const std::vector<std::pair<std::string, Value>>& kv, const std::vector<TensorDecl>& tensors) {
  std::string s;
  put<uint32_t>(s, kMagic);
  put<uint32_t>(s, kVersion);
  put<int64_t>(s, int64_t(tensors.size()));
  put<int64_t>(s, int64_t(kv.size()));
  for (const auto& [k, v] : kv) {
    put_str(s, k);
    put<int32_t>(s, int32_t(v.type));
    put_value(s, v);
  }
  for (const auto& t : tensors) {
    put_str(s, t.name);
    put<uint32_t>(s, uint32_t(t.ne.size()));
    for (int64_t n : t.ne) put<int64_t>(s, n);
    put<int32_t>(s, int32_t(t.type));
    put<uint64_t>(s, t.offset);
  }
  return s;
}

Writer::~Writer() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void Writer::set(const std::string& key, Value v) {
  MIXQ_ASSERT(!f_);
  for (auto& [k, x] : kv_)
    if (k == key) { x = std::move(v); return; }
  kv_.emplace_back(key, std::move(v));
}

void Writer::declare(const std::string& name, TensorType type, std::vector<int64_t> ne) {
  MIXQ_ASSERT(!f_ && !ne.empty() && ne.size() <= 4);
  auto tr = type_traits(int32_t(type));
  MIXQ_ASSERT(tr && ne[0] % tr->block == 0);
  uint64_t numel = 1;
  for (int64_t n : ne) { MIXQ_ASSERT(n > 0); numel *= uint64_t(n); }
  tensors_.push_back({name, type, std::move(ne), tensor_bytes(*tr, numel), 0});
}

uint64_t Writer::data_bytes() const {
  uint64_t s = 0;
  for (const auto& t : tensors_) s += align_up(t.nbytes, alignment_);
  return s;
}

void Writer::raw(const void* p, size_t n) {
  if (std::fwrite(p, 1, n, f_) != n) fail("{}: write failed: {}", tmp_, std::strerror(errno));
  pos_ += n;
}

void Writer::pad_to(uint64_t pos) {
  static const char zeros[64] = {};
  while (pos_ < pos) raw(zeros, size_t(std::min<uint64_t>(sizeof zeros, pos - pos_)));
}

void Writer::begin(const std::string& path) {
  MIXQ_ASSERT(!f_);
  set("general.alignment", Value::u32(alignment_));
  uint64_t off = 0;
  for (auto& t : tensors_) { t.offset = off; off += align_up(t.nbytes, alignment_); }
  path_ = path;
  tmp_ = temp_name_for(path);
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail("{}: cannot create: {}", tmp_, std::strerror(errno));
  buf_.resize(8u << 20);
  std::setvbuf(f_, buf_.data(), _IOFBF, buf_.size());
  std::string h = serialize_header(kv_, tensors_);
  raw(h.data(), h.size());
  data_start_ = align_up(pos_, alignment_);
  pad_to(data_start_);
  cur_ = 0;
  cur_done_ = 0;
}

void Writer::write(const void* data, size_t n) {
  MIXQ_ASSERT(f_);
  while (n > 0) {
    MIXQ_ASSERT(cur_ < tensors_.size());
    const TensorDecl& t = tensors_[cur_];
    size_t k = size_t(std::min<uint64_t>(n, t.nbytes - cur_done_));
    raw(data, k);
    data = static_cast<const char*>(data) + k;
    n -= k;
    cur_done_ += k;
    if (cur_done_ == t.nbytes) {
      ++cur_;
      cur_done_ = 0;
      pad_to(data_start_ + (cur_ < tensors_.size() ? tensors_[cur_].offset : data_bytes()));
    }
  }
}

void Writer::finish() {
  MIXQ_ASSERT(f_);
  if (cur_ != tensors_.size() && !(tensors_.empty()))
    MIXQ_ASSERT(!"gguf writer: finish() before every tensor was written");
  bool ok = std::fflush(f_) == 0;
  ok = fsync(fileno(f_)) == 0 && ok;
  ok = std::fclose(f_) == 0 && ok;
  f_ = nullptr;
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::remove(tmp_.c_str());
    fail("{}: write failed: {}", path_, std::strerror(errno));
  }
}

}  // namespace mixq::gguf
