#include "cli/inspect_gguf.h"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include <fmt/ranges.h>

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

// What llama.cpp's minimax-m2 loader needs (../shared/docs/gguf-minimax-m2.md §1): the keys with
// their exact types (the loader checks types strictly) and every tensor with its ne. Returns one
// line per problem; empty when the file would load.
std::vector<std::string> minimax_m2_problems(const File& g) {
  std::vector<std::string> p;
  const std::string a = "minimax-m2.";
  auto u32 = [&](const std::string& k) -> int64_t {
    const Value* v = g.find(a + k);
    if (!v) { p.push_back("missing " + a + k); return -1; }
    if (v->type != ValueType::U32) { p.push_back(a + k + " is " + std::string(value_type_name(v->type)) + ", llama.cpp reads u32"); return -1; }
    return int64_t(v->u);
  };
  for (const char* k : {"attention.layer_norm_rms_epsilon", "rope.freq_base"}) {
    const Value* v = g.find(a + k);
    if (!v || v->type != ValueType::F32) p.push_back(a + k + " must be an f32");
  }
  const int64_t L = u32("block_count"), H = u32("embedding_length"), I = u32("feed_forward_length"), E = u32("expert_count");
  const int64_t heads = u32("attention.head_count"), kvh = u32("attention.head_count_kv"), hd = u32("attention.key_length");
  u32("context_length");
  u32("expert_feed_forward_length");
  u32("expert_used_count");
  u32("rope.dimension_count");
  if (u32("expert_gating_func") == 0) p.push_back(a + "expert_gating_func is 0 (none): llama.cpp aborts on the first decode");
  if (!g.find("tokenizer.ggml.tokens")) p.push_back("missing tokenizer.ggml.tokens");
  if (L < 0 || H < 0 || I < 0 || E < 0 || heads < 0 || kvh < 0 || hd < 0) return p;
  auto want = [&](const std::string& name, std::vector<int64_t> ne) {
    const gguf::TensorInfo* t = g.tensor(name);
    if (!t) { p.push_back("missing tensor " + name); return; }
    bool same = t->ne.size() == ne.size();
    for (size_t i = 0; same && i < ne.size(); ++i) same = ne[i] < 0 || ne[i] == t->ne[i];
    if (!same) p.push_back(fmt::format("tensor {} has ne [{}], expected [{}]", name, fmt::join(t->ne, ", "), fmt::join(ne, ", ")));
  };
  const int64_t Q = heads * hd, KV = kvh * hd;
  want("token_embd.weight", {H, -1});
  want("output_norm.weight", {H});
  want("output.weight", {H, -1});
  for (int64_t l = 0; l < L; ++l) {
    const std::string b = fmt::format("blk.{}.", l);
    want(b + "attn_norm.weight", {H});
    want(b + "attn_q.weight", {H, Q});
    want(b + "attn_k.weight", {H, KV});
    want(b + "attn_v.weight", {H, KV});
    want(b + "attn_output.weight", {Q, H});
    want(b + "attn_q_norm.weight", {Q});
    want(b + "attn_k_norm.weight", {KV});
    want(b + "ffn_norm.weight", {H});
    want(b + "ffn_gate_inp.weight", {H, E});
    want(b + "exp_probs_b.bias", {E});
    want(b + "ffn_gate_exps.weight", {H, I, E});
    want(b + "ffn_up_exps.weight", {H, I, E});
    want(b + "ffn_down_exps.weight", {I, H, E});
  }
  return p;
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
  const Value* split = g.find("split.count");
  const bool whole = !split || split->u <= 1;
  std::vector<std::string> problems;
  if (arch && arch->type == ValueType::STRING && arch->str == "minimax-m2" && whole) problems = minimax_m2_problems(g);
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
    j["problems"] = problems;
    std::cout << j.dump(2) << "\n";
    return problems.empty() ? 0 : 1;
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
  if (arch && arch->type == ValueType::STRING && arch->str == "minimax-m2") {
    if (!whole) fmt::print("\nllama.cpp minimax-m2 check: skipped (part {} of a {}-file split)\n", g.find("split.no") ? g.find("split.no")->u + 1 : 0, split->u);
    else if (problems.empty()) fmt::print("\nllama.cpp minimax-m2 check: OK (every key its loader needs, every tensor with its shape)\n");
    else {
      fmt::print("\nllama.cpp minimax-m2 check: {} problem(s)\n", problems.size());
      for (const auto& x : problems) fmt::print("  {}\n", x);
    }
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace mixq::cli
