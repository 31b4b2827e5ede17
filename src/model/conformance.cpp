#include "model/conformance.h"

#include <fmt/format.h>

#include <set>

#include "model/linear_weight.h"
#include "model/tensor_table.h"
#include "util/error.h"

namespace mixq {

size_t ConformanceReport::errors() const {
  size_t n = 0;
  for (const auto& f : findings) n += f.severity == Finding::Error;
  return n;
}

namespace {
// FP8 releases list modules kept high precision by their last name component ("gate", "lm_head").
bool fp8_kept_high_precision(const MiniMaxM2Config& c, const std::string& module) {
  auto dot = module.rfind('.');
  std::string last = dot == std::string::npos ? module : module.substr(dot + 1);
  for (const auto& m : c.fp8.modules_to_not_convert)
    if (m == last || m == module) return true;
  return false;
}
}  // namespace

ConformanceReport check_checkpoint(const Checkpoint& ck, const MiniMaxM2Config& cfg) {
  ConformanceReport rep;
  std::set<std::string> consumed;
  auto err = [&](const std::string& t, std::string msg) { rep.findings.push_back({Finding::Error, t, std::move(msg)}); };

  for (const auto& e : minimax_m2_modules(cfg)) {
    if (role_is_linear(e.role)) {
      // Mark every tensor of the module as seen even if it turns out malformed.
      for (const char* s : {".weight", ".weight_scale", ".weight_scale_inv", ".weight_packed", ".weight_shape",
                            ".weight_zero_point", ".weight_g_idx"})
        if (ck.has(e.module + s)) consumed.insert(e.module + s);
      try {
        LinearWeight w = load_linear(ck, e.module, &e.shape, cfg.fp8.block_n, cfg.fp8.block_k);
        if (cfg.quant == CheckpointQuant::None && w.format != WeightFormat::Dense)
          err(e.tensor, fmt::format("stored as {} but config.json declares no quantization_config", w.storage_label()));
        if (cfg.quant == CheckpointQuant::Fp8Block) {
          bool keep = fp8_kept_high_precision(cfg, e.module);
          if (keep && w.format != WeightFormat::Dense)
            err(e.tensor, fmt::format("is {} but modules_to_not_convert keeps it high precision", w.storage_label()));
          if (!keep && w.format != WeightFormat::Fp8Block)
            err(e.tensor, fmt::format("is {} but the FP8 release stores it as F8_E4M3 + weight_scale_inv", w.storage_label()));
        }
      } catch (const InputError& ex) {
        std::string m = ex.what();
        auto p = m.find(": ");
        err(e.tensor, p == std::string::npos ? m : m.substr(p + 2));
      }
      continue;
    }
    consumed.insert(e.tensor);
    if (!ck.has(e.tensor)) {
      err(e.tensor, fmt::format("missing (expected {})", shape_str(e.shape)));
      continue;
    }
    const auto& info = ck.info(e.tensor);
    if (info.shape != e.shape)
      err(e.tensor, fmt::format("shape {} but the config implies {}", shape_str(info.shape), shape_str(e.shape)));
    if (!dtype_is_float(info.dtype) || info.dtype == DType::F8_E4M3 || info.dtype == DType::F8_E5M2)
      err(e.tensor, fmt::format("dtype {} but a {} must be BF16/F16/F32", dtype_name(info.dtype), role_name(e.role)));
  }

  std::set<int> mtp;
  for (const auto& n : ck.names()) {
    if (consumed.count(n)) continue;
    auto l = layer_index_of(n);
    if (l && *l >= cfg.num_hidden_layers) {
      mtp.insert(*l);
      continue;
    }
    err(n, "unexpected tensor (not in the MiniMax-M2 tensor table)");
  }
  for (int l : mtp) {
    rep.mtp_layers.push_back(l);
    rep.findings.push_back({Finding::Info, names::layer(l),
                            "MTP (multi-token prediction) layer: recognised, not used for inference"});
  }
  return rep;
}

}  // namespace mixq
