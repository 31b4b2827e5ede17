#include "model/model_summary.h"

#include <algorithm>
#include <map>

#include "model/linear_weight.h"

namespace mixq {

void add_to_summary(ModelSummary& s, const std::string& kind, const std::string& storage, int64_t params, uint64_t bytes) {
  auto it = std::find_if(s.classes.begin(), s.classes.end(),
                         [&](const PrecisionClass& c) { return c.kind == kind && c.storage == storage; });
  if (it == s.classes.end()) {
    s.classes.push_back({kind, storage, 0, 0, 0});
    it = s.classes.end() - 1;
  }
  it->count += 1;
  it->parameters += params;
  it->bytes += bytes;
  s.total_parameters += params;
  s.total_bytes += bytes;
}

static void finish(ModelSummary& s, const MiniMaxM2Config& cfg) {
  std::sort(s.classes.begin(), s.classes.end(), [](const PrecisionClass& a, const PrecisionClass& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.storage < b.storage;
  });
  s.counts = count_parameters(cfg);
  s.active_parameters = s.counts.active;
}

ModelSummary summarize_checkpoint(const Checkpoint& ck, const MiniMaxM2Config& cfg) {
  ModelSummary s;
  for (const auto& e : minimax_m2_modules(cfg)) {
    const char* kind = kind_name(kind_of(e.role));
    if (role_is_linear(e.role)) {
      LinearWeight w = load_linear(ck, e.module, &e.shape, cfg.fp8.block_n, cfg.fp8.block_k);
      add_to_summary(s, kind, w.storage_label(), w.out * w.in, w.bytes());
    } else {
      const auto& info = ck.info(e.tensor);
      add_to_summary(s, kind, std::string(dtype_name(info.dtype)), shape_numel(info.shape), info.end - info.begin);
    }
  }
  finish(s, cfg);
  return s;
}

ModelSummary summarize_config(const MiniMaxM2Config& cfg) {
  ModelSummary s;
  const bool fp8 = cfg.quant == CheckpointQuant::Fp8Block;
  auto kept = [&](const std::string& module) {
    auto dot = module.rfind('.');
    std::string last = dot == std::string::npos ? module : module.substr(dot + 1);
    for (const auto& m : cfg.fp8.modules_to_not_convert)
      if (m == last || m == module) return true;
    return false;
  };
  for (const auto& e : minimax_m2_modules(cfg)) {
    const char* kind = kind_name(kind_of(e.role));
    int64_t n = shape_numel(e.shape);
    bool router = e.role == Role::RouterGate || e.role == Role::CorrectionBias;
    if (fp8 && role_is_linear(e.role) && !kept(e.module)) {
      int64_t sb = ((e.shape[0] + cfg.fp8.block_n - 1) / cfg.fp8.block_n) * ((e.shape[1] + cfg.fp8.block_k - 1) / cfg.fp8.block_k);
      add_to_summary(s, kind, "FP8-block", n, uint64_t(n) + 4 * uint64_t(sb));
    } else if (router) {
      // Router gate and bias are F32 in the FP8 release and in BF16 checkpoints alike (the bundled
      // tiny model, synth output; vLLM creates the gate with params_dtype=float32).
      add_to_summary(s, kind, "F32", n, 4 * uint64_t(n));
    } else {
      add_to_summary(s, kind, "BF16", n, 2 * uint64_t(n));
    }
  }
  finish(s, cfg);
  return s;
}

}  // namespace mixq
