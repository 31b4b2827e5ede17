#include "io/gguf_reader.h"

#include <limits>
#include <set>

#include "util/error.h"

namespace mixq::gguf {

namespace {

// Bounds-checked cursor over the mapped bytes; `what` names the field for error messages.
class Cursor {
 public:
  Cursor(const std::string& path, const uint8_t* p, uint64_t size) : path_(path), p_(p), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }
  void need(uint64_t n, const std::string& what) const {
    if (n > left()) fail("{}: truncated at byte {}: {} needs {} bytes, {} left", path_, pos_, what, n, left());
  }
  template <typename T>
  T get(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str(const std::string& what) {
    uint64_t n = get<uint64_t>(what + " length");
    need(n, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), size_t(n));
    pos_ += n;
    return s;
  }
  void bytes(std::vector<uint8_t>& out, uint64_t n, const std::string& what) {
    need(n, what);
    out.assign(p_ + pos_, p_ + pos_ + n);
    pos_ += n;
  }
  const std::string& path() const { return path_; }

 private:
  const std::string& path_;
  const uint8_t* p_;
  uint64_t size_, pos_ = 0;
};

bool known_value_type(int32_t t) { return t >= 0 && t <= 12; }

Value read_value(Cursor& c, ValueType type, const std::string& key) {
  Value v;
  v.type = type;
  const std::string what = "value of '" + key + "'";
  switch (type) {
    case ValueType::U8: v.u = c.get<uint8_t>(what); break;
    case ValueType::BOOL: {
      uint8_t b = c.get<uint8_t>(what);
      if (b > 1) fail("{}: {} is a bool of value {}, expected 0 or 1", c.path(), what, b);
      v.u = b;
      break;
    }
    case ValueType::I8: v.i = c.get<int8_t>(what); break;
    case ValueType::U16: v.u = c.get<uint16_t>(what); break;
    case ValueType::I16: v.i = c.get<int16_t>(what); break;
    case ValueType::U32: v.u = c.get<uint32_t>(what); break;
    case ValueType::I32: v.i = c.get<int32_t>(what); break;
    case ValueType::F32: v.f = c.get<float>(what); break;
    case ValueType::U64: v.u = c.get<uint64_t>(what); break;
    case ValueType::I64: v.i = c.get<int64_t>(what); break;
    case ValueType::F64: v.f = c.get<double>(what); break;
    case ValueType::STRING: v.str = c.str(what); break;
    case ValueType::ARRAY: {
      int32_t et = c.get<int32_t>("element type of '" + key + "'");
      if (!known_value_type(et) || et == int32_t(ValueType::ARRAY))
        fail("{}: array '{}' has element type {}, expected a scalar or string type", c.path(), key, et);
      v.elem = ValueType(et);
      uint64_t n = c.get<uint64_t>("element count of '" + key + "'");
      if (v.elem == ValueType::STRING) {
        // Each string costs at least its 8-byte length: bounds the count before reserving.
        if (n > c.left() / 8) fail("{}: array '{}' claims {} strings, more than the {} bytes left can hold", c.path(), key, n, c.left());
        v.strs.reserve(size_t(n));
        for (uint64_t k = 0; k < n; ++k) v.strs.push_back(c.str(fmt::format("string {} of '{}'", k, key)));
      } else {
        size_t es = value_type_size(v.elem);
        if (n > c.left() / es) fail("{}: array '{}' claims {} x {} bytes, only {} left", c.path(), key, n, es, c.left());
        c.bytes(v.raw, n * es, what);
      }
      break;
    }
  }
  return v;
}

// The ggml types the reader can size (ggml.h numbering; blocks from ggml-common.h). Others are
// reported by number: mixq cannot check their offsets, so it does not guess.
std::optional<TypeTraits> read_traits(int32_t t) {
  if (auto tr = type_traits(t)) return tr;
  switch (t) {
    case 3: return TypeTraits{"Q4_1", 32, 20};
    case 6: return TypeTraits{"Q5_0", 32, 22};
    case 7: return TypeTraits{"Q5_1", 32, 24};
    case 9: return TypeTraits{"Q8_1", 32, 36};
    case 10: return TypeTraits{"Q2_K", 256, 84};
    case 11: return TypeTraits{"Q3_K", 256, 110};
    case 12: return TypeTraits{"Q4_K", 256, 144};
    case 13: return TypeTraits{"Q5_K", 256, 176};
    case 14: return TypeTraits{"Q6_K", 256, 210};
    case 15: return TypeTraits{"Q8_K", 256, 292};
    case 24: return TypeTraits{"I8", 1, 1};
    case 25: return TypeTraits{"I16", 1, 2};
    case 26: return TypeTraits{"I32", 1, 4};
    case 27: return TypeTraits{"I64", 1, 8};
    case 28: return TypeTraits{"F64", 1, 8};
    default: return std::nullopt;
  }
}

}  // namespace

File::File(const std::string& path) : path_(path) {
  map_ = std::make_unique<MappedFile>(path);
  base_ = map_->data();
  size_ = map_->size();
  parse();
}

File::File(const uint8_t* data, size_t size, const std::string& name) : path_(name), base_(data), size_(size) { parse(); }

void File::parse() {
  Cursor c(path_, base_, size_);
  if (size_ < 4 || c.get<uint32_t>("magic") != kMagic) fail("{}: not a GGUF file (no \"GGUF\" magic)", path_);
  version_ = c.get<uint32_t>("version");
  if (version_ != 2 && version_ != 3) fail("{}: GGUF version {} is not supported (2 or 3)", path_, version_);
  int64_t n_tensors = c.get<int64_t>("tensor count"), n_kv = c.get<int64_t>("metadata count");
  // A KV entry is at least key length (8) + type (4) + 1 byte; a tensor info at least 8 + 4 + 8 + 4 + 8.
  if (n_kv < 0 || uint64_t(n_kv) > c.left() / 13) fail("{}: metadata count {} does not fit in the file", path_, n_kv);
  if (n_tensors < 0 || uint64_t(n_tensors) > c.left() / 32) fail("{}: tensor count {} does not fit in the file", path_, n_tensors);

  std::set<std::string> keys;
  kv_.reserve(size_t(n_kv));
  for (int64_t k = 0; k < n_kv; ++k) {
    std::string key = c.str(fmt::format("key of metadata entry {}", k));
    if (!keys.insert(key).second) fail("{}: metadata key '{}' appears twice", path_, key);
    int32_t t = c.get<int32_t>("type of '" + key + "'");
    if (!known_value_type(t)) fail("{}: metadata '{}' has unknown value type {}", path_, key, t);
    kv_.emplace_back(key, read_value(c, ValueType(t), key));
  }
  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::U32 || a->u == 0 || (a->u & (a->u - 1)) != 0)
      fail("{}: general.alignment must be a u32 power of 2, is {} {}", path_, value_type_name(a->type), a->summary());
    alignment_ = uint32_t(a->u);
  }

  std::set<std::string> names;
  tensors_.reserve(size_t(n_tensors));
  uint64_t expect = 0;
  for (int64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.name = c.str(fmt::format("name of tensor {}", k));
    if (!names.insert(t.name).second) fail("{}: tensor '{}' appears twice", path_, t.name);
    uint32_t nd = c.get<uint32_t>("n_dims of '" + t.name + "'");
    if (nd < 1 || nd > 4) fail("{}: tensor '{}' has {} dimensions, expected 1 to 4", path_, t.name, nd);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      int64_t n = c.get<int64_t>(fmt::format("ne[{}] of '{}'", d, t.name));
      if (n < 0) fail("{}: tensor '{}' has negative ne[{}] = {}", path_, t.name, d, n);
      if (n > 0 && numel > uint64_t(std::numeric_limits<int64_t>::max()) / uint64_t(n))
        fail("{}: tensor '{}' element count overflows", path_, t.name);
      numel *= uint64_t(n);
      t.ne.push_back(n);
    }
    t.type = c.get<int32_t>("type of '" + t.name + "'");
    auto tr = read_traits(t.type);
    if (!tr) fail("{}: tensor '{}' has ggml type {}, which mixq does not read", path_, t.name, t.type);
    t.type_name = std::string(tr->name);
    if (t.ne[0] % tr->block != 0) fail("{}: tensor '{}' ne[0] = {} is not a multiple of {}'s block of {}", path_, t.name, t.ne[0], tr->name, tr->block);
    if (numel / uint64_t(tr->block) > (uint64_t(1) << 62) / tr->block_bytes) fail("{}: tensor '{}' byte size overflows", path_, t.name);
    t.nbytes = tensor_bytes(*tr, numel);
    t.offset = c.get<uint64_t>("offset of '" + t.name + "'");
    if (t.offset != expect) fail("{}: tensor '{}' is at data offset {}, expected {} (ggml's padded running sum)", path_, t.name, t.offset, expect);
    // Both terms are below 2^62 here, so the sum cannot wrap; the file-size check below bounds it.
    expect = align_up(expect + t.nbytes, alignment_);
    if (expect > size_) fail("{}: tensor '{}' ({} bytes at data offset {}) ends past the end of the file ({} bytes)", path_, t.name, t.nbytes, t.offset, size_);
    tensors_.push_back(std::move(t));
  }
  data_start_ = align_up(c.pos(), alignment_);
  for (const auto& t : tensors_)
    if (data_start_ > size_ || t.offset + t.nbytes > size_ - data_start_)
      fail("{}: tensor '{}' ({} bytes at data offset {}) ends past the end of the file ({} bytes)", path_, t.name, t.nbytes, t.offset, size_);
}

const Value* File::find(const std::string& key) const {
  for (const auto& [k, v] : kv_)
    if (k == key) return &v;
  return nullptr;
}

const Value& File::get(const std::string& key, ValueType type) const {
  const Value* v = find(key);
  if (!v) fail("{}: metadata '{}' is missing", path_, key);
  if (v->type != type) fail("{}: metadata '{}' is {}, expected {}", path_, key, value_type_name(v->type), value_type_name(type));
  return *v;
}

const TensorInfo* File::tensor(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace mixq::gguf
