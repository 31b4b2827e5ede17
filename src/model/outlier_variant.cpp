#include "model/outlier_variant.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "io/checkpoint.h"
#include "io/safetensors_writer.h"
#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/file_util.h"

namespace mixq {

namespace fs = std::filesystem;

namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double uniform01(uint64_t& s) { return double(splitmix64(s) >> 11) * 0x1.0p-53; }

// Per tensor of a layer: which scaling applies.
enum class Kind { Copy, Norm, Columns };

}  // namespace

OutlierLayerChoice outlier_choice(const OutlierVariantOptions& opt, int layer, int64_t hidden) {
  if (opt.channels < 0 || opt.channels > hidden) fail("--outlier-channels {}: must be in [0, {}]", opt.channels, hidden);
  if (!(opt.scale_lo > 0) || !(opt.scale_hi >= opt.scale_lo)) fail("--outlier-scale {}:{}: need 0 < lo <= hi", opt.scale_lo, opt.scale_hi);
  uint64_t s = opt.seed * 0x9E3779B97F4A7C15ull + uint64_t(layer) * 0xD1B54A32D192ED03ull + 1;
  std::vector<int64_t> perm(static_cast<size_t>(hidden));
  for (int64_t i = 0; i < hidden; ++i) perm[size_t(i)] = i;
  for (int k = 0; k < opt.channels; ++k) {  // partial Fisher-Yates
    int64_t j = k + int64_t(splitmix64(s) % uint64_t(hidden - k));
    std::swap(perm[size_t(k)], perm[size_t(j)]);
  }
  std::vector<std::pair<int64_t, float>> picks;
  for (int k = 0; k < opt.channels; ++k) {
    const double u = uniform01(s);
    const float a = float(double(opt.scale_lo) + double(opt.scale_hi - opt.scale_lo) * u);
    picks.emplace_back(perm[size_t(k)], a);
  }
  std::sort(picks.begin(), picks.end());
  OutlierLayerChoice c;
  for (auto& [ch, a] : picks) { c.channels.push_back(ch); c.alpha.push_back(a); }
  return c;
}

void write_outlier_variant(const std::string& from, const std::string& dir, const OutlierVariantOptions& opt) {
  Checkpoint ck(from);
  if (!ck.has_config()) fail("{}: no config.json", from);
  MiniMaxM2Config cfg = load_minimax_m2_config(ck.config_path());
  const int L = int(cfg.num_hidden_layers);
  std::vector<OutlierLayerChoice> choice;
  for (int l = 0; l < L; ++l) choice.push_back(outlier_choice(opt, l, cfg.hidden_size));

  // tensor name -> (kind, layer)
  std::map<std::string, std::pair<Kind, int>> kind;
  for (int l = 0; l < L; ++l) {
    kind[names::post_attention_norm(l) + ".weight"] = {Kind::Norm, l};
    kind[names::router_gate(l) + ".weight"] = {Kind::Columns, l};
    for (int e = 0; e < cfg.num_local_experts; ++e)
      for (int w : {1, 3}) kind[names::expert(l, e, w) + ".weight"] = {Kind::Columns, l};
  }
  std::vector<TensorSpec> specs;
  for (const auto& n : ck.names()) {
    const TensorInfo& i = ck.info(n);
    auto it = kind.find(n);
    if (it != kind.end()) {
      if (i.dtype != DType::BF16 && i.dtype != DType::F32 && i.dtype != DType::F16)
        fail("{}: {} is {}; the outlier variant needs a BF16 checkpoint", from, n, dtype_name(i.dtype));
      int64_t width = i.shape.back();
      if (width != cfg.hidden_size) fail("{}: {} has {} input channels, expected hidden_size {}", from, n, width, cfg.hidden_size);
    }
    specs.push_back({n, i.dtype, i.shape});
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create: {}", dir, ec.message());
  uint64_t biggest = 0;
  for (const auto& sh : ck.shards()) biggest = std::max<uint64_t>(biggest, sh->mapped().size());
  WriterOptions wo;
  wo.max_shard_bytes = std::max<uint64_t>(biggest, 5'000'000'000ull);
  SafetensorsWriter w(dir, specs, wo);
  for (const auto& s : specs) {
    TensorView v = ck.view(s.name);
    auto it = kind.find(s.name);
    if (it == kind.end()) {
      w.write(s.name, v.data, v.nbytes);
      continue;
    }
    const auto& c = choice[size_t(it->second.second)];
    std::vector<float> f = v.to_f32();
    const int64_t width = v.shape.back(), rows = int64_t(f.size()) / width;
    for (size_t k = 0; k < c.channels.size(); ++k) {
      const int64_t ch = c.channels[k];
      // fp64 math, one rounding to the stored dtype below.
      if (it->second.first == Kind::Norm) f[size_t(ch)] = float(double(f[size_t(ch)]) * c.alpha[k]);
      else
        for (int64_t r = 0; r < rows; ++r) f[size_t(r * width + ch)] = float(double(f[size_t(r * width + ch)]) / c.alpha[k]);
    }
    std::vector<uint8_t> bytes(v.nbytes);
    for (size_t i = 0; i < f.size(); ++i) {
      if (v.dtype == DType::BF16) { uint16_t b = f32_to_bf16(f[i]); std::memcpy(&bytes[2 * i], &b, 2); }
      else if (v.dtype == DType::F16) { uint16_t b = f32_to_f16(f[i]); std::memcpy(&bytes[2 * i], &b, 2); }
      else std::memcpy(&bytes[4 * i], &f[i], 4);
    }
    w.write(s.name, bytes.data(), bytes.size());
  }
  w.finish();
  for (const auto& e : fs::directory_iterator(from)) {
    if (!e.is_regular_file()) continue;
    std::string n = e.path().filename().string();
    if (n.size() > 12 && (n.ends_with(".safetensors") || n.ends_with(".safetensors.index.json"))) continue;
    write_file_atomic(path_join(dir, n), read_file(e.path().string()));
  }
}

}  // namespace mixq
