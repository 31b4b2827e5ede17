#include "calib/awq_pipeline.h"

#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include "calib/calib_dataset.h"
#include "calib/router_safe_smoothing.h"
#include "quant/quant_plan.h"
#include "quant/recipe.h"
#include "calib/calib_tokenize.h"
#include "model/linear_weight.h"
#include "model/tensor_table.h"
#include "quant/rtn_int4.h"
#include "runtime/model.h"
#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"
#include "util/sha256.h"

namespace mixq::calib {

namespace {

// An expert matrix as the bf16 values AWQ works on: BF16 as stored; FP8-block dequantized as
// bf16(fp8 * scale_inv), the same values quant's FP8 path quantizes (quant/fp8_block_source.h).
// Held as bf16 (half the bytes); one fp32 matrix is in flight while converting.
Bf16Matrix load_matrix(const Checkpoint& ck, const std::string& module) {
  LinearWeight lw = load_linear(ck, module);
  std::vector<float> f(size_t(lw.out * lw.in));
  lw.dequantize_rows(0, lw.out, f.data());
  return Bf16Matrix::from(f.data(), lw.out, lw.in);
}

// The published MiniMax-M2.1 FP8-INT4 recipe (shared/recipes), used when no recipe is given.
const char* kDefaultRecipe = R"(default_stage:
  default_modifiers:
    AWQModifier:
      config_groups:
        mlp_experts_projections:
          targets: ['re:.*block_sparse_moe\.experts\.\d+\.(w1|w2|w3)$']
          weights: {num_bits: 4, type: int, symmetric: true, group_size: 32, strategy: group, dynamic: false}
      mappings:
        - smooth_layer: re:.*post_attention_layernorm$
          balance_layers: ["re:.*w1$", "re:.*w3$"]
        - smooth_layer: re:.*w3$
          balance_layers: ["re:.*w2$"]
      duo_scaling: true
)";

// Names that differ only in a contiguous run of expert indices as one "prefix.{a..b}.suffix".
nlohmann::ordered_json compact_names(const std::vector<std::string>& names) {
  struct Split { std::string pre, suf; long long idx = -1; };
  auto split = [](const std::string& n) {
    Split s;
    const std::string key = ".experts.";
    const size_t p = n.find(key);
    if (p == std::string::npos) return s;
    const size_t d = p + key.size();
    size_t e = d;
    while (e < n.size() && n[e] >= '0' && n[e] <= '9') ++e;
    if (e == d || e - d > 9) return s;
    s.pre = n.substr(0, d);
    s.suf = n.substr(e);
    s.idx = std::stoll(n.substr(d, e - d));
    return s;
  };
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  size_t i = 0;
  while (i < names.size()) {
    const Split a = split(names[i]);
    size_t j = i + 1;
    while (a.idx >= 0 && j < names.size()) {
      const Split b = split(names[j]);
      if (b.idx != a.idx + (long long)(j - i) || b.pre != a.pre || b.suf != a.suf) break;
      ++j;
    }
    if (j - i > 2) {
      out.push_back(fmt::format("{}{{{}..{}}}{}", a.pre, a.idx, a.idx + (long long)(j - i) - 1, a.suf));
    } else {
      for (size_t k = i; k < j; ++k) out.push_back(names[k]);
    }
    i = j;
  }
  return out;
}

std::vector<float> load_vector(const Checkpoint& ck, const std::string& tensor) { return ck.view(tensor).to_f32(); }

// The recipe's mappings resolved against this checkpoint and its quantization plan (which modules
// have a W4 scheme and which tensors the job hands to the transform).
AwqPlan resolve_mappings(const Model& m, const Recipe* r) {
  Recipe def;
  if (!r) {
    def = parse_recipe(kDefaultRecipe, "<default AWQ recipe>");
    r = &def;
  }
  const QuantPlan qp = plan_quantization(m.checkpoint(), m.config(), *r, PlanOptions{});
  return plan_awq_layers(m.config(), qp, *r);
}

nlohmann::ordered_json search_json(const AwqSearchResult& r) {
  nlohmann::ordered_json j;
  j["skipped"] = r.skipped;
  if (r.skipped || r.best_index < 0) return j;
  const auto& g = r.grid[size_t(r.best_index)];
  j["best_index"] = r.best_index;
  j["ratio"] = g.ratio;
  j["duo"] = g.use_duo;
  j["loss_identity"] = r.losses.empty() ? 0.0 : double(r.losses[0]);
  j["loss_best"] = double(r.losses[size_t(r.best_index)]);
  return j;
}

// TEST-ONLY hook (tests/scripts/awq_resume_layers.sh): MIXQ_TEST_KILL_AFTER_LAYER=n makes the
// process SIGKILL itself right after layer n's results are persisted (the state entering layer n+1,
// or for the last layer its report), a deterministic kill -9 point. Not a user option.
void test_kill_after_layer(int layer) {
  static const char* env = std::getenv("MIXQ_TEST_KILL_AFTER_LAYER");
  if (env && *env && std::atoi(env) == layer) {
    MIXQ_INFO("awq: MIXQ_TEST_KILL_AFTER_LAYER={}: SIGKILL (test hook)", layer);
    std::raise(SIGKILL);
  }
}

}  // namespace

AwqPipeline::AwqPipeline(const std::string& model_dir, const AwqPipelineOptions& opt) : opt_(opt) {
  if (!file_exists(path_join(model_dir, "tokenizer.json")))
    fail("{}: no tokenizer.json; AWQ calibration tokenizes its data with the model's tokenizer (add it, or quantize with --rtn)",
         model_dir);
  model_ = std::make_unique<Model>(model_dir);
  awq_plan_ = resolve_mappings(*model_, opt.recipe);
  opt_.recipe = nullptr;  // not kept: the caller's recipe need not outlive the constructor
  CalibSpec spec = load_calib_spec(opt.calib_spec.empty() ? default_calib_spec_path() : opt.calib_spec);
  if (opt.calib_samples > 0) spec.num_samples = opt.calib_samples;
  if (opt.calib_seq_len > 0) spec.max_seq_length = opt.calib_seq_len;
  auto samples = build_calibration_samples(spec);
  auto tk = text::Tokenizer::load(path_join(model_dir, "tokenizer.json"));
  std::unique_ptr<text::ChatTemplate> chat;
  for (const auto& s : samples)
    if (s.format == SampleFormat::Chat) { chat = text::ChatTemplate::load(model_dir); break; }
  auto tok = tokenize_calibration(samples, *tk, chat.get(), spec.max_seq_length);
  const int64_t H = model_->config().hidden_size, V = model_->vocab();
  num_layers_ = int(model_->config().num_hidden_layers);
  for (const auto& t : tok) {
    for (int32_t id : t.ids)
      if (id < 0 || id >= V) fail("calibration token id {} outside the model's vocabulary [0, {})", id, V);
    if (t.ids.empty()) continue;
    ids_.insert(ids_.end(), t.ids.begin(), t.ids.end());
    seq_len_.push_back(int64_t(t.ids.size()));
  }
  tokens_ = int64_t(ids_.size());
  if (tokens_ == 0) fail("{}: the calibration set tokenizes to no tokens", spec.path);
  MIXQ_INFO("awq: {} calibration sequences, {} tokens (hidden states {:.1f} MiB fp32)", seq_len_.size(), tokens_,
            double(tokens_) * double(H) * 4 / (1 << 20));
  if (!opt.state_dir.empty()) {
    // Everything the hidden states and reports depend on; the memory budget and the state
    // directory change no result and are left out.
    Sha256 h;
    auto add = [&](const std::string& s) { h.update(s.data(), s.size() + 1); };
    add("mixq-awq-state/1");
    add(MIXQ_VERSION);
    add(input_fingerprint(model_dir));
    add(opt.recipe_sha256);
    add(name());
    add(fmt::format("group={} tokens={} hidden={} layers={}", opt.group, tokens_, H, num_layers_));
    h.update(seq_len_.data(), seq_len_.size() * sizeof(int64_t));
    h.update(ids_.data(), ids_.size() * sizeof(int32_t));
    state_ = std::make_unique<AwqResumeState>(opt.state_dir, h.hex(), tokens_, H);
  }
}

void AwqPipeline::embed_all() {
  int64_t row = 0;
  for (int64_t T : seq_len_) {
    model_->embed(ids_.data() + row, T, hidden_.row(row));
    row += T;
  }
}

void AwqPipeline::start(int layer) {
  started_ = true;
  const int64_t H = model_->config().hidden_size;
  hidden_ = Matrix(tokens_, H);
  const uint64_t bytes = uint64_t(tokens_) * uint64_t(H) * 4;
  if (state_ && bytes > opt_.memory_budget) spill_ = HiddenSpill::attach(hidden_, state_->dir());
  if (state_) {
    std::string from;
    if (auto l = state_->load_newest_hidden(layer, hidden_.data.data(), &from)) {
      next_ = loaded_state_ = *l;
      MIXQ_INFO("awq: resuming at layer {} (state from {}); the job needs layer {} first", *l, from, layer);
      return;
    }
  }
  embed_all();  // also after a rejected state that was partly read into hidden_
  next_ = 0;
}

void AwqPipeline::resume_point(const std::string& tensor) {
  if (!state_) return;
  auto l = layer_index_of(tensor);
  // Outside the decoder layers: the embedding comes before layer 0, the final norm and lm_head after
  // the last layer.
  state_->set_floor(l ? *l : tensor.rfind("model.embed", 0) == 0 ? 0 : num_layers_);
}

void AwqPipeline::discard_state() {
  if (state_) state_->remove_all();
}

AwqPipeline::~AwqPipeline() = default;

std::string AwqPipeline::name() const {
  // propagate=quantized is appended only when set, so the default string stays what it was.
  return fmt::format("awq(router_compensation={},w2_gram={},n_grid={},duo={},calib={},samples={},seq_len={}{})",
                     opt_.router == RouterCompensation::On ? "on" : "off", opt_.w2_gram_loss, opt_.n_grid, int(opt_.duo),
                     opt_.calib_spec.empty() ? "default" : opt_.calib_spec, opt_.calib_samples, opt_.calib_seq_len,
                     opt_.propagate_quantized ? ",propagate=quantized" : "");
}

void AwqPipeline::advance_to(int layer) {
  if (layer < next_ && started_) return;
  const bool first_request = !started_;
  if (first_request) start(layer);
  while (next_ <= layer) {
    const int l = next_;
    // The state entering layer l is saved here rather than at the end of layer l-1: by now every
    // shard that starts inside layer l-1 has been announced (resume_point), so the floor is known
    // and at most two states are on disk (awq_resume_state.h).
    if (state_ && l > 0 && l != loaded_state_) {
      state_->save_hidden(l, hidden_.data.data());
      test_kill_after_layer(l - 1);
    }
    run_layer(next_++);
    if (state_) {
      state_->save_report(l, layers_.back());
      if (l + 1 == num_layers_) test_kill_after_layer(l);
    }
    // Layers below the job's first request were recomputed only to reach it (a restarted job: their
    // shards are complete on disk); their hand-outs are never asked for.
    if (first_request && l < layer) std::erase_if(pending_, [&](const auto& kv) { return layer_index_of(kv.first) == l; });
    if (spill_ && !spill_->covers(hidden_)) spill_ = HiddenSpill::attach(hidden_, state_->dir());
    if (spill_) spill_->release_resident();
  }
}

void AwqPipeline::run_layer(int l) {
  const auto& cfg = model_->config();
  const Checkpoint& ck = model_->checkpoint();
  const int64_t H = cfg.hidden_size, N = tokens_;
  const auto& lw = model_->layer(l);
  // 1. attention, one calibration sequence at a time (each its own context from position 0).
  {
    std::vector<float> normed, out;
    int64_t r0 = 0;
    for (int64_t T : seq_len_) {
      normed.resize(size_t(T * H));
      out.resize(size_t(T * H));
      mixq::rms_norm(hidden_.row(r0), lw.input_norm.data(), T, H, cfg.rms_norm_eps, normed.data());
      model_->attention_block(l, normed.data(), T, 0, nullptr, out.data());
      float* h = hidden_.row(r0);
      for (int64_t i = 0; i < T * H; ++i) h[i] += out[size_t(i)];
      r0 += T;
    }
  }
  // 2. the layer's MoE weights (experts as bf16) and the recipe's mappings of this layer.
  const AwqLayerPlan& lp = awq_plan_.layers[size_t(l)];
  const int64_t E = cfg.num_local_experts;
  MoeLayerWeights w;
  w.norm = load_vector(ck, names::post_attention_norm(l) + ".weight");
  {
    std::vector<float> g = load_vector(ck, names::router_gate(l) + ".weight");
    w.gate = Matrix(E, H);
    w.gate.data = std::move(g);
  }
  if (ck.has(names::correction_bias(l))) w.bias = load_vector(ck, names::correction_bias(l));
  for (int e = 0; e < E; ++e) {
    w.w1.push_back(load_matrix(ck, names::expert(l, e, 1)));
    w.w3.push_back(load_matrix(ck, names::expert(l, e, 3)));
    w.w2.push_back(load_matrix(ck, names::expert(l, e, 2)));
  }
  MoeShape shape{H, cfg.intermediate_size, E};
  MoeAwqOptions mo;
  mo.search.n_grid = opt_.n_grid;
  mo.search.duo = opt_.duo;
  mo.search.group = lp.group;  // the recipe scheme's group size
  for (int64_t T : seq_len_) mo.search.batch_numel.push_back(T * H);  // one batch per sample
  // The gate is compensated when the recipe balances it, or by router compensation (default on).
  const bool gate_balanced = lp.gate_in_recipe || opt_.router == RouterCompensation::On;
  mo.router = gate_balanced ? RouterCompensation::On : RouterCompensation::Off;
  mo.rms_norm_eps = float(cfg.rms_norm_eps);
  mo.top_k = int(cfg.num_experts_per_tok);
  mo.w2_gram_loss = opt_.w2_gram_loss;
  mo.norm_mapping = lp.norm >= 0;
  mo.w3_w2.resize(size_t(E));
  for (int64_t e = 0; e < E; ++e) mo.w3_w2[size_t(e)] = lp.w3_w2[size_t(e)] >= 0;
  mo.w1_quantized = lp.w1_q;
  mo.w3_quantized = lp.w3_q;
  mo.w2_quantized = lp.w2_q;
  MoeAwqReport rep = awq_smooth_moe_layer(w, hidden_, shape, mo, names::layer(l));
  // 3. propagation with the smoothed (in place, bf16) weights, one expert decoded at a time:
  // unquantized (default), or with --awq-propagate quantized the W4 experts QDQ'd exactly as the job
  // will round them (quant/rtn_int4.h qdq_int4; the smoothed values are what it is handed).
  {
    Matrix x = rms_norm(hidden_, w.norm, float(cfg.rms_norm_eps));
    Routing r = route_sigmoid_topk(x, w.gate, w.bias, mo.top_k);
    Matrix out;
    ExpertWeightFn smoothed = expert_weights_of(std::span<const Bf16Matrix>(w.w1), std::span<const Bf16Matrix>(w.w3),
                                                std::span<const Bf16Matrix>(w.w2));
    ExpertWeightFn weights = smoothed;
    if (opt_.propagate_quantized)
      weights = [&](int e, int part, std::vector<float>& scratch) -> const float* {
        const float* v = smoothed(e, part, scratch);
        const auto& q = part == 0 ? lp.w1_q : part == 1 ? lp.w3_q : lp.w2_q;
        if (!q[size_t(e)]) return v;
        const int64_t rows = part == 2 ? H : cfg.intermediate_size, cols = part == 2 ? cfg.intermediate_size : H;
        if (v != scratch.data()) scratch.assign(v, v + rows * cols);
        qdq_int4(scratch.data(), rows, cols, lp.group, scratch.data());
        return scratch.data();
      };
    moe_block_forward(x, r, shape, weights, out);
    for (int64_t i = 0; i < N * H; ++i) hidden_.data[size_t(i)] += out.data[size_t(i)];
  }
  // Hand-out table: the scales (the held experts are dropped when `w` goes out of scope), and the
  // smoothed norm and gate.
  auto scales = std::make_shared<LayerScales>();
  if (rep.norm_run) scales->norm = rep.norm.scales;
  scales->w2.resize(size_t(E));
  for (int64_t e = 0; e < E; ++e)
    if (rep.w2_run[size_t(e)]) scales->w2[size_t(e)] = rep.w2[size_t(e)].scales;
  if (rep.norm_run) {
    pending_[names::post_attention_norm(l) + ".weight"].dense = std::move(w.norm);
    if (gate_balanced) pending_[names::router_gate(l) + ".weight"].dense = std::move(w.gate.data);
  }
  for (int e = 0; e < E; ++e)
    for (int part : {1, 3, 2}) {
      const bool touched = part == 2 ? rep.w2_run[size_t(e)] : rep.norm_run || (part == 3 && rep.w2_run[size_t(e)]);
      if (!touched) continue;
      Pending& p = pending_[names::expert(l, e, part)];
      p.scales = scales;
      p.expert = e;
      p.part = part;
      p.rows = part == 2 ? H : cfg.intermediate_size;
      p.cols = part == 2 ? cfg.intermediate_size : H;
    }
  // Report: each mapping by its recipe pattern and the modules it resolved to.
  auto mapping_json = [&](int ri, const AwqSearchResult* r) {
    nlohmann::ordered_json j;
    if (ri < 0) {
      j["skipped"] = true;
      j["reason"] = "no mapping of the recipe resolves to this set, or it was skipped (see the log)";
      return j;
    }
    const ResolvedAwqMapping& m = awq_plan_.resolved[size_t(ri)];
    j = search_json(*r);
    j["recipe_mapping"] = m.mapping;
    j["smooth"] = m.smooth;
    j["balance"] = compact_names(m.balance);
    j["parent"] = m.parent;
    return j;
  };
  nlohmann::ordered_json j;
  j["layer"] = l;
  j["tokens"] = rep.tokens;
  j["norm_mapping"] = mapping_json(lp.norm, &rep.norm);
  if (lp.norm >= 0)
    j["norm_mapping"]["gate"] = lp.gate_in_recipe ? "balance layer (recipe)"
                                : gate_balanced   ? "balance layer (router compensation)"
                                                  : "not compensated (--no-router-compensation)";
  nlohmann::ordered_json w2 = nlohmann::ordered_json::array();
  for (int64_t e = 0; e < E; ++e) w2.push_back(mapping_json(lp.w3_w2[size_t(e)], &rep.w2[size_t(e)]));
  j["w3_w2_mappings"] = w2;
  j["routed_tokens"] = rep.routed_tokens;
  j["routing_change_compensated"] = rep.routing_change_compensated;
  j["routing_change_uncompensated"] = rep.routing_change_uncompensated;
  layers_.push_back(j);
  if (!lp.any()) {
    MIXQ_DEBUG("awq: layer {}: no mapping of the recipe applies (propagated unchanged)", l);
    return;
  }
  // Per-layer detail only with -v: the summary table after the run has the same numbers.
  MIXQ_DEBUG("awq: layer {}: norm ratio {:.4g} loss {:.4g} -> {:.4g}, routing change {:.4f} (uncompensated {:.4f})", l,
            j["norm_mapping"].value("ratio", 0.0), j["norm_mapping"].value("loss_identity", 0.0),
            j["norm_mapping"].value("loss_best", 0.0),
            gate_balanced ? rep.routing_change_compensated : rep.routing_change_uncompensated,
            rep.routing_change_uncompensated);
}

void AwqPipeline::smooth_expert(const Pending& p, float* w) const {
  // The job's buffer holds the source values: BF16 as stored, FP8 as fp8 x scale_inv in fp32. AWQ
  // works on their bf16 values (as run_layer's load_matrix), so round first; then the same
  // smoothing as was applied in place during the layer.
  for (int64_t i = 0; i < p.rows * p.cols; ++i) w[i] = round_bf16(w[i]);
  smooth_expert_matrix(w, p.rows, p.cols, p.part, p.scales->norm, p.scales->w2[size_t(p.expert)]);
}

void AwqPipeline::transform_linear(const std::string& module, float* w, int64_t out, int64_t in) {
  auto l = layer_index_of(module);
  if (!l) return;
  advance_to(*l);
  auto it = pending_.find(module);
  if (it == pending_.end()) return;  // not smoothed (attention etc.): the source values
  MIXQ_ASSERT(it->second.scales && it->second.rows == out && it->second.cols == in);
  smooth_expert(it->second, w);
  pending_.erase(it);
}

bool AwqPipeline::transform_dense(const std::string& tensor, std::vector<float>& values) {
  auto l = layer_index_of(tensor);
  if (!l) return false;
  advance_to(*l);
  auto it = pending_.find(tensor);
  if (it != pending_.end()) {  // norm / gate
    MIXQ_ASSERT(it->second.dense.size() == values.size());
    values = std::move(it->second.dense);
    pending_.erase(it);
    return true;
  }
  // An expert matrix the recipe leaves unquantized (ignored) but a mapping balances: the job copies
  // it as a float tensor, smoothed.
  const std::string suffix = ".weight";
  if (tensor.size() <= suffix.size() || tensor.compare(tensor.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  it = pending_.find(tensor.substr(0, tensor.size() - suffix.size()));
  if (it == pending_.end() || !it->second.scales) return false;
  MIXQ_ASSERT(int64_t(values.size()) == it->second.rows * it->second.cols);
  smooth_expert(it->second, values.data());
  pending_.erase(it);
  return true;
}

nlohmann::ordered_json AwqPipeline::report() const {
  nlohmann::ordered_json j;
  j["algorithm"] = "awq";
  j["transform"] = name();
  j["calibration_tokens"] = tokens_;
  j["calibration_sequences"] = seq_len_.size();
  // Layers computed by this run, and those a killed earlier run of the same job computed (from the
  // resume state; identical values, so the report is byte-identical to an uninterrupted run's).
  std::map<int, nlohmann::ordered_json> by_layer;
  for (const auto& l : layers_) by_layer[l["layer"].get<int>()] = l;
  if (state_)
    for (int l = 0; l < num_layers_; ++l)
      if (!by_layer.count(l))
        if (auto r = state_->load_report(l)) by_layer[l] = std::move(*r);
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (auto& [l, r] : by_layer) layers.push_back(std::move(r));
  j["layers"] = std::move(layers);
  return j;
}

}  // namespace mixq::calib
