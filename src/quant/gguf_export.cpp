#include "quant/gguf_export.h"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <cstdio>
#include <set>

#include "io/checkpoint.h"
#include "io/gguf_writer.h"
#include "model/linear_weight.h"
#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "util/error.h"
#include "util/progress.h"

namespace mixq::gguf {

namespace {

constexpr const char* kArch = "minimax-m2";
constexpr size_t kChunkBytes = 16u << 20;  // row chunk of a big matrix (embedding, lm_head)

using Emit = std::function<void(const std::vector<uint8_t>&)>;

struct Item {
  std::string name, cls, source;
  TensorType type;
  std::vector<int64_t> ne;
  std::function<void(const Emit&, ConvertStats&)> produce;
  uint64_t nbytes() const {
    uint64_t n = 1;
    for (auto x : ne) n *= uint64_t(x);
    return tensor_bytes(*type_traits(int32_t(type)), n);
  }
};

// FP8 block shape: the official release's weight_block_size, or a compressed-tensors group's
// block_structure ("strategy": "block"); 128x128 otherwise (as the engine reads it).
std::pair<int64_t, int64_t> fp8_block(const MiniMaxM2Config& c) {
  if (c.quant == CheckpointQuant::Fp8Block) return {c.fp8.block_n, c.fp8.block_k};
  const auto& q = c.quantization_config;
  if (c.quant == CheckpointQuant::CompressedTensors && q.is_object() && q.contains("config_groups") && q["config_groups"].is_object())
    for (const auto& [name, g] : q["config_groups"].items()) {
      if (!g.is_object() || !g.contains("weights") || !g["weights"].is_object()) continue;
      const auto& w = g["weights"];
      if (w.value("strategy", "") == "block" && w.contains("block_structure") && w["block_structure"].is_array() &&
          w["block_structure"].size() == 2 && w["block_structure"][0].is_number_integer() && w["block_structure"][1].is_number_integer())
        return {w["block_structure"][0].get<int64_t>(), w["block_structure"][1].get<int64_t>()};
    }
  return {128, 128};
}

// Rows of `w` as `type`, in chunks of at most kChunkBytes of fp32 work, handed to `emit`.
void stream_linear(const LinearWeight& w, TensorType type, ScalePolicy policy, const Emit& emit, ConvertStats& st) {
  const int64_t rows = std::max<int64_t>(1, int64_t(kChunkBytes / (size_t(w.in) * 4)));
  std::vector<uint8_t> buf;
  for (int64_t r = 0; r < w.out; r += rows) {
    buf.clear();
    convert_rows(w, r, std::min(w.out, r + rows), type, policy, buf, st);
    emit(buf);
  }
}

class Planner {
 public:
  Planner(const Checkpoint& ck, const MiniMaxM2Config& c, const ExportOptions& o) : ck_(ck), c_(c), o_(o) {
    std::tie(bn_, bk_) = fp8_block(c);
  }
  std::vector<Item> items;
  std::set<std::string> used;

  TensorType type_for(const LinearWeight& w, bool router) const {
    switch (w.format) {
      case WeightFormat::PackedInt4: return TensorType::Q4_0;
      case WeightFormat::Fp8Block: return router ? TensorType::F32 : o_.fp8_as;
      case WeightFormat::Dense: return router ? TensorType::F32 : dense_type(w.weight.dtype);
    }
    return TensorType::F32;
  }

  LinearWeight linear(const std::string& module, Shape expect) {
    LinearWeight w = load_linear(ck_, module, &expect, bn_, bk_);
    for (auto& n : w.tensor_names()) used.insert(n);
    return w;
  }

  void add_linear(const std::string& name, const std::string& module, Shape expect, const std::string& cls, bool router = false) {
    LinearWeight w = linear(module, std::move(expect));
    TensorType t = type_for(w, router);
    if (auto why = conversion_problem(w, t); !why.empty()) fail("{}: {}: {}", ck_.dir(), module, why);
    ScalePolicy pol = o_.scales;
    items.push_back({name, cls, w.storage_label(), t, {w.in, w.out},
                     [w, t, pol](const Emit& emit, ConvertStats& st) { stream_linear(w, t, pol, emit, st); }});
  }

  void add_vector(const std::string& name, const std::string& tensor, int64_t n, const std::string& cls) {
    if (!ck_.has(tensor)) fail("{}: tensor '{}' is missing", ck_.dir(), tensor);
    TensorView v = ck_.view(tensor);
    if (v.shape != Shape{n}) fail("{}: '{}' is {}, expected [{}]", ck_.dir(), tensor, shape_str(v.shape), n);
    if (!dtype_is_float(v.dtype)) fail("{}: '{}' is {}, expected a float type", ck_.dir(), tensor, dtype_name(v.dtype));
    used.insert(tensor);
    items.push_back({name, cls, std::string(dtype_name(v.dtype)), TensorType::F32, {n},
                     [v](const Emit& emit, ConvertStats& st) {
                       std::vector<uint8_t> buf;
                       convert_vector_f32(v, buf);
                       st.values += uint64_t(v.numel());
                       emit(buf);
                     }});
  }

  // experts.{e}.w<w> of layer l stacked into one [in, out, E] tensor: one type for all experts.
  void add_experts(int l, int wi, const std::string& name, Shape expect) {
    const int64_t E = c_.num_local_experts;
    auto ws = std::make_shared<std::vector<LinearWeight>>();
    for (int e = 0; e < int(E); ++e) ws->push_back(linear(names::expert(l, e, wi), expect));
    const LinearWeight& w0 = ws->front();
    for (const auto& w : *ws)
      if (w.storage_label() != w0.storage_label())
        fail("{}: layer {} w{}: expert 0 is {} but expert {} is {}; llama.cpp stacks a layer's experts into one tensor of one type",
             ck_.dir(), l, wi, w0.storage_label(), w.module.substr(w.module.rfind("experts.") + 8), w.storage_label());
    TensorType t = type_for(w0, false);
    if (auto why = conversion_problem(w0, t); !why.empty()) fail("{}: {}: {}", ck_.dir(), w0.module, why);
    ScalePolicy pol = o_.scales;
    items.push_back({name, "experts", w0.storage_label(), t, {w0.in, w0.out, E}, [ws, t, pol](const Emit& emit, ConvertStats& st) {
                       for (const auto& w : *ws) stream_linear(w, t, pol, emit, st);
                     }});
  }

  void add_zero_bias(const std::string& name, int64_t n) {
    items.push_back({name, "router_bias", "none (zeros)", TensorType::F32, {n}, [n](const Emit& emit, ConvertStats& st) {
                       emit(std::vector<uint8_t>(size_t(n) * 4, 0));
                       st.values += uint64_t(n);
                     }});
  }

 private:
  const Checkpoint& ck_;
  const MiniMaxM2Config& c_;
  const ExportOptions& o_;
  int64_t bn_ = 128, bk_ = 128;
};

void check_supported(const MiniMaxM2Config& c, const std::string& what) {
  if (!c.use_qk_norm || c.qk_norm_type != "per_layer")
    fail("{}: llama.cpp's minimax-m2 needs use_qk_norm with qk_norm_type per_layer (got {} / {})", what, c.use_qk_norm, c.qk_norm_type);
  if (c.scoring_func != "sigmoid" && c.scoring_func != "softmax")
    fail("{}: scoring_func '{}' has no llama.cpp gating function (sigmoid or softmax)", what, c.scoring_func);
  if (c.hidden_act != "silu") fail("{}: hidden_act '{}': llama.cpp's minimax-m2 runs silu experts", what, c.hidden_act);
}

void add_model_metadata(Writer& w, const MiniMaxM2Config& c, const std::string& name, uint32_t file_type) {
  const std::string a = kArch;
  w.set("general.architecture", Value::string(a));
  w.set("general.name", Value::string(name));
  w.set("general.quantized_by", Value::string("mixq export-gguf"));
  w.set("general.file_type", Value::u32(file_type));
  w.set("general.quantization_version", Value::u32(2));
  w.set(a + ".context_length", Value::u32(uint32_t(c.max_position_embeddings)));
  w.set(a + ".embedding_length", Value::u32(uint32_t(c.hidden_size)));
  w.set(a + ".block_count", Value::u32(uint32_t(c.num_hidden_layers)));
  // The expert shapes use n_ff (feed_forward_length), not expert_feed_forward_length: both written.
  w.set(a + ".feed_forward_length", Value::u32(uint32_t(c.intermediate_size)));
  w.set(a + ".expert_feed_forward_length", Value::u32(uint32_t(c.intermediate_size)));
  w.set(a + ".attention.head_count", Value::u32(uint32_t(c.num_attention_heads)));
  w.set(a + ".attention.head_count_kv", Value::u32(uint32_t(c.num_key_value_heads)));
  w.set(a + ".attention.key_length", Value::u32(uint32_t(c.head_dim)));
  w.set(a + ".attention.value_length", Value::u32(uint32_t(c.head_dim)));
  w.set(a + ".attention.layer_norm_rms_epsilon", Value::f32(float(c.rms_norm_eps)));
  w.set(a + ".rope.dimension_count", Value::u32(uint32_t(c.rotary_dim)));
  w.set(a + ".rope.freq_base", Value::f32(float(c.rope_theta)));
  w.set(a + ".expert_count", Value::u32(uint32_t(c.num_local_experts)));
  w.set(a + ".expert_used_count", Value::u32(uint32_t(c.num_experts_per_tok)));
  // Without it llama.cpp aborts on the first decode (gating NONE); 2 = sigmoid, 1 = softmax.
  w.set(a + ".expert_gating_func", Value::u32(c.scoring_func == "sigmoid" ? 2 : 1));
}

std::string base_name(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  size_t s = d.rfind('/');
  return s == std::string::npos ? d : d.substr(s + 1);
}

}  // namespace

std::string ClassLine::exactness() const {
  if (target == "Q8_0") return "requantized (ggml Q8_0)";
  if (source.rfind("W4A16", 0) == 0)
    return stats.changed ? fmt::format("exact nibbles; {} group scale(s) clamped to fp16 (max rel change {:.3g})", stats.changed, stats.max_rel_change)
                         : "exact (nibbles and fp16 scales)";
  if (stats.changed) return fmt::format("rounded: {} of {} values (max rel change {:.3g})", stats.changed, stats.values, stats.max_rel_change);
  return "exact";
}

std::string gguf_tensor_class(const std::string& n) {
  auto has = [&](const char* s) { return n.find(s) != std::string::npos; };
  if (n == "token_embd.weight") return "embedding";
  if (n == "output.weight") return "lm_head";
  if (has("_exps.")) return "experts";
  if (has("exp_probs_b")) return "router_bias";
  if (has("ffn_gate_inp")) return "router_gate";
  if (has("_norm.")) return "norms";
  if (has(".attn_")) return "attention";
  return "other";
}

std::string split_path(const std::string& output, int part, int count) {
  std::string prefix = output;
  if (prefix.size() > 5 && prefix.compare(prefix.size() - 5, 5, ".gguf") == 0) prefix.resize(prefix.size() - 5);
  return fmt::format("{}-{:05d}-of-{:05d}.gguf", prefix, part, count);
}

ExportReport export_gguf(const std::string& model_dir, const std::string& output, const ExportOptions& opt) {
  Checkpoint ck(model_dir);
  if (!ck.has_config()) fail("{}: no config.json", model_dir);
  MiniMaxM2Config c = load_minimax_m2_config(ck.config_path());
  check_supported(c, ck.config_path());
  const int64_t H = c.hidden_size, Q = c.q_width(), KV = c.kv_width(), I = c.intermediate_size, E = c.num_local_experts;

  Planner p(ck, c, opt);
  p.add_linear("token_embd.weight", names::kEmbed, {c.vocab_size, H}, "embedding");
  p.add_vector("output_norm.weight", std::string(names::kFinalNorm) + ".weight", H, "norms");
  p.add_linear("output.weight", c.tie_word_embeddings ? names::kEmbed : names::kLmHead, {c.vocab_size, H}, "lm_head");
  for (int l = 0; l < int(c.num_hidden_layers); ++l) {
    const std::string b = fmt::format("blk.{}.", l);
    p.add_vector(b + "attn_norm.weight", names::input_norm(l) + ".weight", H, "norms");
    p.add_linear(b + "attn_q.weight", names::attn(l, "q_proj"), {Q, H}, "attention");
    p.add_linear(b + "attn_k.weight", names::attn(l, "k_proj"), {KV, H}, "attention");
    p.add_linear(b + "attn_v.weight", names::attn(l, "v_proj"), {KV, H}, "attention");
    p.add_linear(b + "attn_output.weight", names::attn(l, "o_proj"), {H, Q}, "attention");
    p.add_vector(b + "attn_q_norm.weight", names::attn(l, "q_norm") + ".weight", Q, "norms");
    p.add_vector(b + "attn_k_norm.weight", names::attn(l, "k_norm") + ".weight", KV, "norms");
    p.add_vector(b + "ffn_norm.weight", names::post_attention_norm(l) + ".weight", H, "norms");
    p.add_linear(b + "ffn_gate_inp.weight", names::router_gate(l), {E, H}, "router_gate", true);
    if (c.use_routing_bias) p.add_vector(b + "exp_probs_b.bias", names::correction_bias(l), E, "router_bias");
    else p.add_zero_bias(b + "exp_probs_b.bias", E);
    p.add_experts(l, 1, b + "ffn_gate_exps.weight", {I, H});
    p.add_experts(l, 3, b + "ffn_up_exps.weight", {I, H});
    p.add_experts(l, 2, b + "ffn_down_exps.weight", {H, I});
  }

  ExportReport rep;
  for (const auto& n : ck.names())
    if (!p.used.count(n)) ++rep.skipped;

  // Per-class summary lines, in first-seen order.
  std::map<std::string, size_t> line_of;
  std::vector<size_t> line_idx;
  bool any_q4 = false, any_q8 = false, any_bf16 = false;
  for (const auto& it : p.items) {
    std::string tgt(type_traits(int32_t(it.type))->name);
    std::string key = it.cls + "|" + it.source + "|" + tgt;
    if (!line_of.count(key)) {
      line_of[key] = rep.classes.size();
      rep.classes.push_back({it.cls, it.source, tgt, 0, 0, 0, {}});
    }
    ClassLine& cl = rep.classes[line_of[key]];
    line_idx.push_back(line_of[key]);
    ++cl.tensors;
    uint64_t n = 1;
    for (auto x : it.ne) n *= uint64_t(x);
    cl.params += n;
    cl.bytes += it.nbytes();
    rep.tensor_bytes += it.nbytes();
    any_q4 |= it.type == TensorType::Q4_0;
    any_q8 |= it.type == TensorType::Q8_0;
    any_bf16 |= it.type == TensorType::BF16;
  }
  rep.tensors = int64_t(p.items.size());
  const uint32_t file_type = any_q4 ? kFileTypeMostlyQ4_0 : any_q8 ? kFileTypeMostlyQ8_0 : any_bf16 ? kFileTypeMostlyBF16 : kFileTypeAllF32;

  // Files: greedy, at most split_max_bytes of tensor data each (a tensor bigger than that gets a
  // file of its own).
  std::vector<std::vector<size_t>> parts(1);
  uint64_t in_part = 0;
  for (size_t i = 0; i < p.items.size(); ++i) {
    uint64_t nb = align_up(p.items[i].nbytes(), kDefaultAlignment);
    if (opt.split_max_bytes && in_part > 0 && in_part + nb > opt.split_max_bytes) {
      parts.emplace_back();
      in_part = 0;
    }
    parts.back().push_back(i);
    in_part += nb;
  }
  const int n_parts = int(parts.size());
  if (n_parts > 65535) fail("--split-max-size: {} files would exceed GGUF's u16 split count", n_parts);

  std::optional<Progress> prog;
  if (opt.progress) prog.emplace("export-gguf", rep.tensor_bytes, "B");
  try {
    for (int k = 0; k < n_parts; ++k) {
      const std::string path = n_parts == 1 ? output : split_path(output, k + 1, n_parts);
      Writer w;
      add_model_metadata(w, c, base_name(model_dir), file_type);
      if (k == 0) rep.vocab = add_vocab_metadata(w, model_dir, c.vocab_size);
      if (n_parts > 1) {
        w.set("split.no", Value::u16(uint16_t(k)));
        w.set("split.count", Value::u16(uint16_t(n_parts)));
        w.set("split.tensors.count", Value::i32(int32_t(p.items.size())));
      }
      for (size_t i : parts[size_t(k)]) w.declare(p.items[i].name, p.items[i].type, p.items[i].ne);
      w.begin(path);
      for (size_t i : parts[size_t(k)]) {
        const Item& it = p.items[i];
        uint64_t wrote = 0;
        Emit emit = [&](const std::vector<uint8_t>& b) {
          w.write(b.data(), b.size());
          wrote += b.size();
          if (prog) prog->advance(b.size());
        };
        it.produce(emit, rep.classes[line_idx[i]].stats);
        MIXQ_ASSERT(wrote == it.nbytes());
      }
      w.finish();
      rep.files.push_back(path);
    }
  } catch (...) {
    // A split export that fails part-way removes the parts already complete: all or nothing.
    for (const auto& f : rep.files) std::remove(f.c_str());
    throw;
  }
  if (prog) prog->finish();
  return rep;
}

}  // namespace mixq::gguf
