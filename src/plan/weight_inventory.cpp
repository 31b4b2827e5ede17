#include "plan/weight_inventory.h"

#include <fmt/format.h>

#include "model/linear_weight.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq {

uint64_t WeightInventory::total_bytes() const {
  uint64_t s = 0;
  for (const auto& m : modules) s += m.bytes;
  return s;
}

static ModuleBytes from_entry(const ModuleEntry& e) {
  ModuleBytes m;
  m.module = e.module;
  m.role = e.role;
  m.layer = e.layer;
  m.expert = e.expert;
  m.shape = e.shape;
  return m;
}

static std::string last_component(const std::string& module) {
  auto dot = module.rfind('.');
  return dot == std::string::npos ? module : module.substr(dot + 1);
}

WeightInventory inventory_from_config(const MiniMaxM2Config& cfg, std::optional<DType> source) {
  if (cfg.quant == CheckpointQuant::CompressedTensors)
    fail("config has a compressed-tensors quantization_config: size it from its tensors with --model DIR");
  const bool fp8 = !source && cfg.quant == CheckpointQuant::Fp8Block;
  auto kept = [&](const std::string& module) {
    for (const auto& m : cfg.fp8.modules_to_not_convert)
      if (m == last_component(module) || m == module) return true;
    return false;
  };
  WeightInventory inv;
  inv.origin = "config";
  for (const auto& e : minimax_m2_modules(cfg)) {
    ModuleBytes m = from_entry(e);
    const uint64_t n = uint64_t(shape_numel(e.shape));
    const bool router = e.role == Role::RouterGate || e.role == Role::CorrectionBias;
    if (fp8 && role_is_linear(e.role) && !kept(e.module)) {
      const int64_t bn = cfg.fp8.block_n, bk = cfg.fp8.block_k;
      const uint64_t blocks = uint64_t((e.shape[0] + bn - 1) / bn) * uint64_t((e.shape[1] + bk - 1) / bk);
      m.stored = StoredAs::Fp8Block;
      m.precision = "FP8-block";
      m.bytes = n + 4 * blocks;  // e4m3 weight + F32 scale per block
      m.block_n = bn;
      m.block_k = bk;
    } else {
      // The FP8 release keeps the router gate and the correction bias in F32 (minimax-m2.md §2.2);
      // the bias is F32 in every release.
      DType dt = source.value_or(DType::BF16);
      if (e.role == Role::CorrectionBias || (fp8 && router)) dt = DType::F32;
      m.precision = std::string(dtype_name(dt));
      m.bytes = n * dtype_size(dt);
    }
    inv.modules.push_back(std::move(m));
  }
  return inv;
}

WeightInventory inventory_from_checkpoint(const Checkpoint& ck, const MiniMaxM2Config& cfg) {
  WeightInventory inv;
  inv.origin = "checkpoint";
  for (const auto& e : minimax_m2_modules(cfg)) {
    ModuleBytes m = from_entry(e);
    if (role_is_linear(e.role)) {
      LinearWeight w = load_linear(ck, e.module, &e.shape, cfg.fp8.block_n, cfg.fp8.block_k);
      m.precision = w.storage_label();
      m.bytes = w.bytes();
      if (w.format == WeightFormat::Fp8Block) {
        m.stored = StoredAs::Fp8Block;
        m.block_n = w.block_n;
        m.block_k = w.block_k;
      } else if (w.format == WeightFormat::PackedInt4) {
        m.stored = StoredAs::Int4Group;
        m.group_size = w.group_size;
      }
    } else {
      const auto& info = ck.info(e.tensor);
      m.precision = std::string(dtype_name(info.dtype));
      m.bytes = info.end - info.begin;
    }
    inv.modules.push_back(std::move(m));
  }
  for (const auto& s : ck.shards()) inv.file_bytes += file_size(s->path());
  return inv;
}

}  // namespace mixq
