#include "io/safetensors_writer.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq {

std::string SafetensorsWriter::header_bytes(const std::vector<TensorSpec>& specs, size_t first, size_t last,
                                            const std::map<std::string, std::string>& metadata) {
  std::string j = "{";
  if (!metadata.empty()) j += "\"__metadata__\":" + nlohmann::json(metadata).dump();
  uint64_t off = 0;
  for (size_t i = first; i < last; ++i) {
    const auto& s = specs[i];
    if (j.size() > 1) j += ",";
    j += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", nlohmann::json(s.name).dump(),
                     dtype_name(s.dtype), fmt::join(s.shape, ","), off, off + s.nbytes());
    off += s.nbytes();
  }
  j += "}";
  while (j.size() % 8) j += ' ';  // data section starts 8-byte aligned
  std::string out(8, '\0');
  uint64_t n = j.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
  return out + j;
}

SafetensorsWriter::SafetensorsWriter(std::string dir, std::vector<TensorSpec> specs, WriterOptions opt)
    : dir_(std::move(dir)), specs_(std::move(specs)), opt_(std::move(opt)) {
  uint64_t cur = 0;
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (!index_of_.emplace(specs_[i].name, i).second) fail("writer: tensor '{}' declared twice", specs_[i].name);
    uint64_t b = specs_[i].nbytes();
    if (shard_first_.empty() || (cur > 0 && cur + b > opt_.max_shard_bytes)) {
      shard_first_.push_back(i);
      cur = 0;
    }
    cur += b;
  }
  if (shard_first_.empty()) shard_first_.push_back(0);
  done_.assign(shard_first_.size(), false);
  for (size_t s = 0; s < num_shards(); ++s) {
    std::string p = path_join(dir_, shard_file_name(s));
    if (!file_exists(p)) continue;
    size_t last = s + 1 < num_shards() ? shard_first_[s + 1] : specs_.size();
    std::string hdr = header_bytes(specs_, shard_first_[s], last, opt_.metadata);
    uint64_t expect = hdr.size();
    for (size_t i = shard_first_[s]; i < last; ++i) expect += specs_[i].nbytes();
    if (file_size(p) != expect) continue;
    FILE* f = std::fopen(p.c_str(), "rb");
    if (!f) continue;
    std::string got(hdr.size(), '\0');
    bool same = std::fread(got.data(), 1, got.size(), f) == got.size() && got == hdr;
    std::fclose(f);
    done_[s] = same;
  }
}

SafetensorsWriter::~SafetensorsWriter() {
  if (out_) {  // abandoned mid-shard (exception): leave no half-written file behind
    std::fclose(out_);
    std::remove(tmp_path_.c_str());
  }
}

std::string SafetensorsWriter::shard_file_name(size_t s) const {
  if (num_shards() == 1) return opt_.prefix + ".safetensors";
  return fmt::format("{}-{:05}-of-{:05}.safetensors", opt_.prefix, s + 1, num_shards());
}

size_t SafetensorsWriter::shard_of(size_t t) const {
  size_t s = 0;
  while (s + 1 < shard_first_.size() && shard_first_[s + 1] <= t) ++s;
  return s;
}

bool SafetensorsWriter::needed(const std::string& name) const {
  auto it = index_of_.find(name);
  MIXQ_ASSERT(it != index_of_.end());
  return !done_[shard_of(it->second)];
}

void SafetensorsWriter::open_shard(size_t s) {
  cur_shard_ = int64_t(s);
  if (done_[s]) return;
  size_t last = s + 1 < num_shards() ? shard_first_[s + 1] : specs_.size();
  tmp_path_ = path_join(dir_, shard_file_name(s)) + ".tmp";
  out_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!out_) fail("{}: cannot create: {}", tmp_path_, std::strerror(errno));
  std::setvbuf(out_, nullptr, _IOFBF, 8 << 20);
  std::string hdr = header_bytes(specs_, shard_first_[s], last, opt_.metadata);
  if (std::fwrite(hdr.data(), 1, hdr.size(), out_) != hdr.size()) fail("{}: write failed", tmp_path_);
}

void SafetensorsWriter::close_shard() {
  if (cur_shard_ < 0) return;
  if (out_) {
    bool ok = std::fflush(out_) == 0 && fsync(fileno(out_)) == 0;
    ok = std::fclose(out_) == 0 && ok;
    out_ = nullptr;
    std::string final_path = path_join(dir_, shard_file_name(size_t(cur_shard_)));
    if (!ok || std::rename(tmp_path_.c_str(), final_path.c_str()) != 0) {
      std::remove(tmp_path_.c_str());
      fail("{}: write failed: {}", final_path, std::strerror(errno));
    }
    done_[size_t(cur_shard_)] = true;
  }
  cur_shard_ = -1;
}

void SafetensorsWriter::begin_tensor(const std::string& name) {
  MIXQ_ASSERT(!in_tensor_ && !finished_);
  if (next_ >= specs_.size() || specs_[next_].name != name)
    fail("writer: tensor '{}' written out of declared order (expected '{}')", name,
         next_ < specs_.size() ? specs_[next_].name : "<end>");
  size_t s = shard_of(next_);
  if (int64_t(s) != cur_shard_) {
    close_shard();
    open_shard(s);
  }
  in_tensor_ = true;
  tensor_left_ = specs_[next_].nbytes();
}

void SafetensorsWriter::append(const void* data, size_t n) {
  MIXQ_ASSERT(in_tensor_);
  if (n > tensor_left_) fail("writer: tensor '{}' given more bytes than its shape holds", specs_[next_].name);
  tensor_left_ -= n;
  if (out_ && n && std::fwrite(data, 1, n, out_) != n) fail("{}: write failed: {}", tmp_path_, std::strerror(errno));
}

void SafetensorsWriter::end_tensor() {
  MIXQ_ASSERT(in_tensor_);
  if (tensor_left_ != 0) fail("writer: tensor '{}' is {} bytes short", specs_[next_].name, tensor_left_);
  in_tensor_ = false;
  ++next_;
}

void SafetensorsWriter::write(const std::string& name, const void* data, size_t n) {
  begin_tensor(name);
  append(data, n);
  end_tensor();
}

void SafetensorsWriter::skip_tensor(const std::string& name) {
  begin_tensor(name);
  MIXQ_ASSERT(done_[size_t(cur_shard_)]);
  tensor_left_ = 0;
  end_tensor();
}

std::vector<std::string> SafetensorsWriter::finish() {
  MIXQ_ASSERT(!in_tensor_);
  if (next_ != specs_.size()) fail("writer: only {} of {} declared tensors were written", next_, specs_.size());
  if (specs_.empty()) open_shard(0);
  close_shard();
  finished_ = true;
  std::vector<std::string> files;
  for (size_t s = 0; s < num_shards(); ++s) files.push_back(shard_file_name(s));
  if (num_shards() > 1) {
    nlohmann::ordered_json idx;
    uint64_t total = 0;
    for (const auto& s : specs_) total += s.nbytes();
    idx["metadata"]["total_size"] = total;
    nlohmann::ordered_json wm = nlohmann::ordered_json::object();
    std::map<std::string, std::string> sorted;
    for (size_t i = 0; i < specs_.size(); ++i) sorted[specs_[i].name] = shard_file_name(shard_of(i));
    for (const auto& [k, v] : sorted) wm[k] = v;
    idx["weight_map"] = wm;
    write_file_atomic(path_join(dir_, "model.safetensors.index.json"), idx.dump(2) + "\n");
  } else if (file_exists(path_join(dir_, "model.safetensors.index.json"))) {
    // A stale index from an earlier sharded write would make readers look for shards that the
    // single file replaced.
    std::remove(path_join(dir_, "model.safetensors.index.json").c_str());
  }
  return files;
}

}  // namespace mixq
