#include "cli/inspect_gguf.h"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "io/gguf_reader.h"
#include "quant/gguf_export.h"
#include "util/file_util.h"
#include "util/number_format.h"
#include "util/progress.h"

namespace mixq::cli {

using namespace mixq::gguf;

bool looks_like_gguf(const std::string& path) {
  if (is_directory(path)) return false;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char m[4] = {};
  bool yes = std::fread(m, 1, 4, f) == 4 && std::string(m, 4) == "GGUF";
  std::fclose(f);
  return yes;
}

namespace {

struct ClassRow {
  int64_t count = 0;
  uint64_t params = 0, bytes = 0;
};

nlohmann::json value_json(const Value& v) {
  switch (v.type) {
    case ValueType::U8: case ValueType::U16: case ValueType::U32: case ValueType::U64: return v.u;
    case ValueType::I8: case ValueType::I16: case ValueType::I32: case ValueType::I64: return v.i;
    case ValueType::F32: case ValueType::F64: return v.f;
    case ValueType::BOOL: return bool(v.u);
    case ValueType::STRING: return v.str;
    case ValueType::ARRAY: return {{"array", std::string(value_type_name(v.elem))}, {"count", v.count()}};
  }
  return nullptr;
}

}  // namespace

int inspect_gguf(const std::string& path, bool json) {
  File g(path);
  std::map<std::pair<std::string, std::string>, ClassRow> rows;
  uint64_t params = 0, bytes = 0;
  for (const auto& t : g.tensors()) {
    auto& r = rows[{gguf_tensor_class(t.name), t.type_name}];
    ++r.count;
    r.params += t.numel();
    r.bytes += t.nbytes;
    params += t.numel();
    bytes += t.nbytes;
  }
  const Value* arch = g.find("general.architecture");
  if (json) {
    nlohmann::json j;
    j["source"] = "gguf";
    j["version"] = g.version();
    j["alignment"] = g.alignment();
    j["file_bytes"] = g.file_bytes();
    j["tensors"] = g.tensors().size();
    j["total_parameters"] = params;
    j["tensor_bytes"] = bytes;
    j["metadata"] = nlohmann::json::object();
    for (const auto& [k, v] : g.metadata()) j["metadata"][k] = value_json(v);
    j["classes"] = nlohmann::json::array();
    for (const auto& [k, r] : rows)
      j["classes"].push_back({{"class", k.first}, {"gguf_type", k.second}, {"count", r.count}, {"parameters", r.params}, {"bytes", r.bytes}});
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("{}: GGUF v{}, {} tensors, {} metadata keys, alignment {}, {}\n", path, g.version(), g.tensors().size(), g.metadata().size(),
             g.alignment(), human_bytes(double(g.file_bytes())));
  fmt::print("architecture: {}\n\n", arch && arch->type == ValueType::STRING ? arch->str : "(none)");
  for (const auto& [k, v] : g.metadata()) fmt::print("  {:<44} {}\n", k, v.summary(90));
  fmt::print("\n{:<13} {:<6} {:>7} {:>19} {:>19} {:>8}\n", "class", "type", "count", "parameters", "bytes", "share");
  for (const auto& [k, r] : rows)
    fmt::print("{:<13} {:<6} {:>7} {:>19} {:>19} {:>7.2f}%\n", k.first, k.second, r.count, with_commas(r.params), with_commas(r.bytes),
               100.0 * double(r.bytes) / double(std::max<uint64_t>(1, bytes)));
  fmt::print("{:<13} {:<6} {:>7} {:>19} {:>19}\n", "total", "", g.tensors().size(), with_commas(params), with_commas(bytes));
  return 0;
}

}  // namespace mixq::cli
