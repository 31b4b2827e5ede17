#include "io/checkpoint.h"

#include <dirent.h>

#include <algorithm>
#include <set>

#include "util/error.h"
#include "util/file_util.h"

namespace mixq {

uint64_t Checkpoint::huge_page_bytes() const {
  uint64_t b = 0;
  for (const auto& s : shards_) b += s->mapped().huge_page_bytes();
  return b;
}

uint8_t* Checkpoint::writable(const void* p, size_t n) {
  for (auto& s : shards_)
    if (uint8_t* w = s->mapped().writable(p, n)) return w;
  return nullptr;
}

void Checkpoint::seal() {
  for (auto& s : shards_) s->mapped().seal();
}

std::string path_join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  return a.back() == '/' ? a + b : a + "/" + b;
}

namespace {
std::vector<std::string> list_safetensors(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) fail("{}: cannot list directory", dir);
  while (auto* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0) out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

Checkpoint::Checkpoint(const std::string& path, Residency residency) {
  std::vector<std::string> files;
  std::map<std::string, std::string> index_map;  // from the index, if any
  std::string index_path;
  if (is_directory(path)) {
    dir_ = path;
    // `mixq quantize` writes its job file first and replaces it by the manifest last: a directory
    // with the one and not the other is a run that was interrupted (quant/quantize_job.h names them).
    if (file_exists(path_join(dir_, ".mixq_job.json")) && !file_exists(path_join(dir_, "mixq_manifest.json")))
      fail("{}: an incomplete mixq quantize run (interrupted before it finished); run the same quantize command again to "
           "resume it",
           dir_);
    index_path = path_join(dir_, "model.safetensors.index.json");
    if (file_exists(index_path)) {
      nlohmann::json idx;
      try {
        idx = nlohmann::json::parse(read_file(index_path));
      } catch (const nlohmann::json::exception& e) {
        fail("{}: invalid JSON ({})", index_path, e.what());
      }
      if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
        fail("{}: missing object 'weight_map'", index_path);
      if (idx["weight_map"].empty()) fail("{}: 'weight_map' lists no tensors", index_path);
      std::set<std::string> shard_names;
      for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
        if (!it.value().is_string()) fail("{}: weight_map['{}'] must be a file name", index_path, it.key());
        std::string shard = it.value().get<std::string>();
        if (shard.find('/') != std::string::npos || shard == ".." )
          fail("{}: weight_map['{}'] names '{}', which is not a file in this directory", index_path, it.key(), shard);
        index_map[it.key()] = shard;
        shard_names.insert(shard);
      }
      for (const auto& s : shard_names) {
        if (!file_exists(path_join(dir_, s)))
          fail("{}: names shard '{}', which does not exist", index_path, s);
        files.push_back(s);
      }
    } else {
      files = list_safetensors(dir_);
      if (files.empty()) fail("{}: no .safetensors files", dir_);
    }
  } else if (file_exists(path)) {
    auto slash = path.rfind('/');
    dir_ = slash == std::string::npos ? "." : path.substr(0, slash);
    files.push_back(slash == std::string::npos ? path : path.substr(slash + 1));
  } else {
    fail("{}: no such file or directory", path);
  }

  for (const auto& f : files) {
    shards_.push_back(std::make_unique<SafetensorsFile>(path_join(dir_, f), residency));
    const auto& sf = *shards_.back();
    for (const auto& t : sf.tensors()) {
      if (where_.count(t.name))
        fail("{}: tensor '{}' also appears in {}", sf.path(), t.name, shards_[where_[t.name]]->path());
      where_[t.name] = shards_.size() - 1;
    }
  }
  if (!index_map.empty()) {
    for (const auto& [name, shard] : index_map) {
      auto it = where_.find(name);
      if (it == where_.end()) fail("{}: tensor '{}' is mapped to '{}' but is not in it", index_path, name, shard);
      if (shards_[it->second]->path() != path_join(dir_, shard))
        fail("{}: tensor '{}' is mapped to '{}' but lives in {}", index_path, name, shard, shards_[it->second]->path());
    }
    for (const auto& [name, si] : where_)
      if (!index_map.count(name)) fail("{}: tensor '{}' in {} is missing from weight_map", index_path, name, shards_[si]->path());
  }
}

bool Checkpoint::has_config() const { return file_exists(config_path()); }

nlohmann::json Checkpoint::config() const {
  try {
    return nlohmann::json::parse(read_file(config_path()));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON ({})", config_path(), e.what());
  }
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : where_) out.push_back(n);
  return out;
}

const SafetensorsFile& Checkpoint::shard_of(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) fail("{}: no tensor named '{}'", dir_, name);
  return *shards_[it->second];
}

const TensorInfo& Checkpoint::info(const std::string& name) const { return *shard_of(name).find(name); }
TensorView Checkpoint::view(const std::string& name) const { return shard_of(name).view(name); }

uint64_t Checkpoint::tensor_bytes() const {
  uint64_t s = 0;
  for (const auto& sh : shards_)
    for (const auto& t : sh->tensors()) s += t.end - t.begin;
  return s;
}

}  // namespace mixq
