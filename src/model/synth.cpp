// Synthetic MiniMax-M2 checkpoints. Determinism: every random number comes from a counter-based
// stream keyed by (seed, tensor name, 128-row block), so the bytes do not depend on thread count,
// shard layout or which shards a resumed run skips. Memory: one slab of rows (<= ~32 MB of output
// plus its fp32 scales) at a time, independent of model size.
#include "model/synth.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

#include "io/checkpoint.h"
#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"
#include "model/tensor_table.h"
#include "util/dtype.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/progress.h"
#include "util/thread_pool.h"

namespace mixq {

namespace {

constexpr int64_t kRowBlock = 128;          // generation unit; also the FP8 block height
constexpr size_t kSlabBytes = 32u << 20;    // output bytes generated per parallel step
constexpr float kFp8Max = 448.0f;

uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash_name(const std::string& s) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// xoshiro256** with a Box-Muller normal; seeded from (key, stream) through splitmix64.
class Rng {
 public:
  Rng(uint64_t key, uint64_t stream) {
    uint64_t x = mix64(key ^ mix64(stream));
    for (auto& v : s_) v = x = mix64(x);
  }
  uint64_t next() {
    const uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = rotl(s_[3], 45);
    return r;
  }
  double uniform() { return double((next() >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
  float normal() {
    if (have_) { have_ = false; return spare_; }
    const double r = std::sqrt(-2.0 * std::log(uniform())), a = 6.283185307179586 * uniform();
    spare_ = float(r * std::sin(a));
    have_ = true;
    return float(r * std::cos(a));
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  float spare_ = 0;
  bool have_ = false;
};

// How one tensor's values are drawn.
struct Gen {
  enum Kind { Matrix, NormWeight, Bias } kind = Matrix;
  float std = 1.0f;            // Matrix: N(0, std) before the per-row scale
  float row_spread = 0.25f;    // Matrix: per-output-channel scale exp(N(0, row_spread)) (log-normal)
  float norm_spread = 0.1f;    // NormWeight: exp(N(0, norm_spread)), around 1
  const std::vector<int64_t>* outliers = nullptr;  // Matrix: shrink these input columns
                                                   // NormWeight: enlarge these channels
  float outlier_scale = 1.0f;
};

struct Item {
  TensorSpec spec;           // what is written (weight dtype F8_E4M3 for FP8 Linears)
  Gen gen;
  bool fp8 = false;          // followed by its weight_scale_inv
  bool is_scale = false;     // the weight_scale_inv of the previous item (computed with it)
};

std::string options_fingerprint(const SynthOptions& o) {
  return fmt::format("seed={};fp8={};outliers={};outlier_scale={};version=1", o.seed, o.fp8 ? 1 : 0,
                     o.outlier_channels, o.outlier_scale);
}

// Fills rows [r0, r1) (r0 a multiple of kRowBlock) of a Matrix tensor as fp32.
void gen_matrix_rows(const Item& it, uint64_t key, int64_t r0, int64_t r1, float* dst) {
  const int64_t in = it.spec.shape.size() == 2 ? it.spec.shape[1] : 1;
  std::vector<float> colf(size_t(in), 1.0f);
  if (it.gen.outliers)
    for (int64_t c : *it.gen.outliers) colf[size_t(c)] = 1.0f / it.gen.outlier_scale;
  for (int64_t b = r0; b < r1; b += kRowBlock) {
    Rng rng(key, uint64_t(b / kRowBlock));
    for (int64_t r = b; r < std::min(r1, b + kRowBlock); ++r) {
      const float rs = it.gen.std * std::exp(it.gen.row_spread * rng.normal());
      float* d = dst + (r - r0) * in;
      for (int64_t c = 0; c < in; ++c) d[c] = rng.normal() * rs * colf[size_t(c)];
    }
  }
}

std::vector<float> gen_vector(const Item& it, uint64_t key) {
  const int64_t n = shape_numel(it.spec.shape);
  std::vector<float> v(static_cast<size_t>(n));
  Rng rng(key, 0);
  for (auto& x : v)
    x = it.gen.kind == Gen::NormWeight ? std::exp(it.gen.norm_spread * rng.normal()) : it.gen.std * rng.normal();
  if (it.gen.kind == Gen::NormWeight && it.gen.outliers)
    for (int64_t c : *it.gen.outliers) v[size_t(c)] *= it.gen.outlier_scale;
  return v;
}

void encode(DType t, const float* src, size_t n, uint8_t* dst) {
  switch (t) {
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      break;
    case DType::F32: std::memcpy(dst, src, 4 * n); break;
    default: MIXQ_ASSERT(!"synth encodes BF16 and F32 only");
  }
}

// FP8 block quantization of rows [r0, r1) (whole 128-row blocks): scale = amax/448 per 128x128
// block (1 for an all-zero block), q = round_to_nearest_even(w / scale) as float8_e4m3fn.
void quantize_fp8_rows(const float* w, int64_t r0, int64_t r1, int64_t in, uint8_t* q, float* scales) {
  const int64_t sc = (in + 127) / 128;
  for (int64_t b = r0; b < r1; b += kRowBlock) {
    const int64_t be = std::min(r1, b + kRowBlock);
    for (int64_t cb = 0; cb < sc; ++cb) {
      const int64_t c0 = cb * 128, c1 = std::min(in, c0 + 128);
      float amax = 0;
      for (int64_t r = b; r < be; ++r)
        for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(w[(r - r0) * in + c]));
      const float s = amax > 0 ? amax / kFp8Max : 1.0f;
      scales[(b / kRowBlock) * sc + cb] = s;
      for (int64_t r = b; r < be; ++r)
        for (int64_t c = c0; c < c1; ++c) q[(r - r0) * in + c] = f32_to_fp8e4m3(w[(r - r0) * in + c] / s);
    }
  }
}

// Removes files of an earlier run that the new plan does not produce (another shard count leaves
// differently named shards that a directory scan would pick up), and the completion marker.
void remove_stale_outputs(const std::string& dir, const std::set<std::string>& keep) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> gone;
  while (auto* e = readdir(d)) {
    std::string n = e->d_name;
    bool ours = n.rfind("model", 0) == 0 &&
                (n.find(".safetensors") != std::string::npos);
    if (ours && !keep.count(n)) gone.push_back(n);
  }
  closedir(d);
  for (const auto& n : gone) std::remove(path_join(dir, n).c_str());
  std::remove(path_join(dir, "config.json").c_str());  // written last: marks a complete model
}

// Resuming or replacing is only for our own earlier output: a directory holding any other
// safetensors file (a real model) is refused rather than overwritten.
void refuse_foreign_model(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> files;
  while (auto* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0) files.push_back(n);
  }
  closedir(d);
  for (const auto& n : files) {
    bool ours = false;
    try {
      ours = SafetensorsFile(path_join(dir, n)).metadata().count("mixq_synth") != 0;
    } catch (const InputError&) {
    }
    if (!ours)
      fail("{}: already holds {}, which mixq synth did not write; choose an empty or new --output directory", dir, n);
  }
}

void make_dirs(const std::string& dir) {
  std::string cur;
  size_t i = 0;
  while (i <= dir.size()) {
    size_t j = dir.find('/', i);
    if (j == std::string::npos) j = dir.size();
    cur = dir.substr(0, j);
    if (!cur.empty() && !is_directory(cur) && ::mkdir(cur.c_str(), 0755) != 0 && !is_directory(cur))
      fail("{}: cannot create directory: {}", cur, std::strerror(errno));
    i = j + 1;
  }
}

}  // namespace

MiniMaxM2Config default_synth_config() {
  MiniMaxM2Config c;
  c.architectures = {"MiniMaxM2ForCausalLM"};
  c.model_type = "minimax_m2";
  c.vocab_size = 4096;
  c.hidden_size = 256;
  c.intermediate_size = 128;
  c.num_hidden_layers = 4;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 64;
  c.rotary_dim = 32;
  c.max_position_embeddings = 4096;
  c.num_local_experts = 8;
  c.num_experts_per_tok = 2;
  c.rope_theta = 5e6;
  c.rms_norm_eps = 1e-6;
  c.bos_token_ids = {1};
  c.eos_token_ids = {2};
  return c;
}

std::vector<int64_t> synth_outlier_channels(const SynthOptions& opt, int layer) {
  const int64_t H = opt.config.hidden_size;
  const int64_t k = std::min<int64_t>(std::max(0, opt.outlier_channels), H);
  // Partial Fisher-Yates over [0, H): k distinct channels.
  std::vector<int64_t> idx(static_cast<size_t>(H));
  for (int64_t i = 0; i < H; ++i) idx[size_t(i)] = i;
  Rng rng(mix64(opt.seed) ^ 0x6f75746c69657273ull, uint64_t(layer));
  for (int64_t i = 0; i < k; ++i) std::swap(idx[size_t(i)], idx[size_t(i + int64_t(rng.next() % uint64_t(H - i)))]);
  std::vector<int64_t> out(idx.begin(), idx.begin() + k);
  std::sort(out.begin(), out.end());
  return out;
}

void write_synthetic_model(const SynthOptions& opt, const std::string& dir) {
  // Validate the config exactly as a reader will (InputError naming the field).
  MiniMaxM2Config cfg = opt.config;
  cfg.architectures = {"MiniMaxM2ForCausalLM"};
  cfg.model_type = "minimax_m2";
  if (opt.fp8) {
    cfg.quant = CheckpointQuant::Fp8Block;
    cfg.fp8 = Fp8BlockConfig{};
    cfg.fp8.modules_to_not_convert = {"gate", "e_score_correction_bias", "lm_head"};
    cfg.quantization_config = {{"quant_method", "fp8"}, {"fmt", "float8_e4m3fn"}, {"activation_scheme", "dynamic"},
                               {"weight_block_size", {128, 128}},
                               {"modules_to_not_convert", cfg.fp8.modules_to_not_convert}};
  } else {
    cfg.quant = CheckpointQuant::None;
    cfg.quantization_config = nullptr;
  }
  nlohmann::json cj = config_to_json(cfg);
  cfg = parse_minimax_m2_config(cj, "synth config");
  if (opt.outlier_channels < 0 || opt.outlier_channels > cfg.hidden_size)
    fail("synth: outlier_channels {} must be in [0, hidden_size {}]", opt.outlier_channels, cfg.hidden_size);
  if (!(opt.outlier_scale >= 1.0f) || !std::isfinite(opt.outlier_scale))
    fail("synth: outlier_scale {} must be a finite number >= 1", opt.outlier_scale);
  if (opt.max_shard_bytes == 0) fail("synth: max_shard_bytes must be positive");

  SynthOptions vopt = opt;
  vopt.config = cfg;
  std::vector<std::vector<int64_t>> outliers(size_t(cfg.num_hidden_layers));
  for (int l = 0; l < int(cfg.num_hidden_layers); ++l) outliers[size_t(l)] = synth_outlier_channels(vopt, l);

  // The write plan: every tensor of the table, in table order; an FP8 Linear is followed by its scale.
  std::vector<Item> items;
  for (const auto& e : minimax_m2_modules(cfg)) {
    Item it;
    it.spec = {e.tensor, DType::BF16, e.shape};
    const std::vector<int64_t>* out_l = e.layer >= 0 ? &outliers[size_t(e.layer)] : nullptr;
    switch (e.role) {
      case Role::Embedding: it.gen.std = 1.0f; it.gen.row_spread = 0.1f; break;
      case Role::LmHead: it.gen.std = 1.0f / std::sqrt(float(e.shape[1])); it.gen.row_spread = 0.1f; break;
      case Role::FinalNorm: case Role::InputNorm: case Role::QNorm: case Role::KNorm:
        it.gen.kind = Gen::NormWeight;
        break;
      case Role::PostAttentionNorm:
        it.gen.kind = Gen::NormWeight;
        it.gen.outliers = out_l;
        it.gen.outlier_scale = opt.outlier_scale;
        break;
      case Role::CorrectionBias:
        it.gen.kind = Gen::Bias;
        it.gen.std = 0.01f;  // small: the bias nudges selection, the logits decide it
        it.spec.dtype = DType::F32;
        break;
      case Role::RouterGate: case Role::ExpertW1: case Role::ExpertW3:
        it.gen.outliers = out_l;  // these read the post-attention norm's output
        it.gen.outlier_scale = opt.outlier_scale;
        [[fallthrough]];
      default:
        it.gen.std = 1.0f / std::sqrt(float(e.shape[1]));
        break;
    }
    if (e.role == Role::RouterGate) it.spec.dtype = DType::F32;
    const bool fp8 = opt.fp8 && role_is_linear(e.role) && e.role != Role::RouterGate && e.role != Role::LmHead;
    if (fp8) {
      it.fp8 = true;
      it.spec.dtype = DType::F8_E4M3;
    }
    items.push_back(it);
    if (fp8) {
      Item s;
      s.spec = {e.module + ".weight_scale_inv", DType::F32, {(e.shape[0] + 127) / 128, (e.shape[1] + 127) / 128}};
      s.is_scale = true;
      items.push_back(s);
    }
  }

  std::vector<TensorSpec> specs;
  uint64_t total = 0;
  for (const auto& it : items) {
    specs.push_back(it.spec);
    total += it.spec.nbytes();
  }
  WriterOptions wo;
  wo.max_shard_bytes = opt.max_shard_bytes;
  wo.metadata = {{"format", "pt"}, {"mixq_synth", options_fingerprint(opt)}};

  refuse_foreign_model(dir);
  make_dirs(dir);
  std::set<std::string> keep;
  {
    SafetensorsWriter plan(dir, specs, wo);  // only for the file names
    for (size_t s = 0; s < plan.num_shards(); ++s) {
      keep.insert(plan.shard_file_name(s));
    }
    if (plan.num_shards() > 1) keep.insert("model.safetensors.index.json");
  }
  remove_stale_outputs(dir, keep);
  SafetensorsWriter w(dir, specs, wo);

  Progress prog("synth", total, "B");
  std::vector<float> f32, scales;
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    if (it.is_scale) continue;  // written together with its weight
    const bool has_scale = it.fp8;
    if (!w.needed(it.spec.name)) {
      w.skip_tensor(it.spec.name);
      if (has_scale) w.skip_tensor(items[i + 1].spec.name);
      prog.advance(it.spec.nbytes() + (has_scale ? items[i + 1].spec.nbytes() : 0));
      continue;
    }
    const uint64_t key = mix64(opt.seed) ^ hash_name(it.spec.name);
    if (it.gen.kind != Gen::Matrix) {
      auto v = gen_vector(it, key);
      bytes.resize(it.spec.nbytes());
      encode(it.spec.dtype, v.data(), v.size(), bytes.data());
      w.write(it.spec.name, bytes.data(), bytes.size());
      prog.advance(bytes.size());
      continue;
    }
    const int64_t out = it.spec.shape[0], in = it.spec.shape[1];
    const size_t esize = dtype_size(it.spec.dtype);
    const int64_t row_bytes = in * int64_t(esize);
    int64_t slab_rows = std::max<int64_t>(kRowBlock, int64_t(kSlabBytes) / std::max<int64_t>(1, row_bytes) / kRowBlock * kRowBlock);
    slab_rows = std::min(slab_rows, (out + kRowBlock - 1) / kRowBlock * kRowBlock);
    const int64_t scale_cols = (in + 127) / 128;
    if (has_scale) scales.assign(size_t(((out + 127) / 128) * scale_cols), 0.0f);
    w.begin_tensor(it.spec.name);
    for (int64_t r0 = 0; r0 < out; r0 += slab_rows) {
      const int64_t r1 = std::min(out, r0 + slab_rows);
      f32.resize(size_t((r1 - r0) * in));
      bytes.resize(size_t((r1 - r0) * row_bytes));
      const size_t blocks = size_t((r1 - r0 + kRowBlock - 1) / kRowBlock);
      ThreadPool::global().parallel_for(blocks, 1, [&](size_t b0, size_t b1, size_t) {
        const int64_t a = r0 + int64_t(b0) * kRowBlock, z = std::min(r1, r0 + int64_t(b1) * kRowBlock);
        float* src = f32.data() + (a - r0) * in;
        gen_matrix_rows(it, key, a, z, src);
        uint8_t* dst = bytes.data() + (a - r0) * row_bytes;
        if (has_scale) quantize_fp8_rows(src, a, z, in, dst, scales.data());  // scales indexed by absolute block
        else encode(it.spec.dtype, src, size_t((z - a) * in), dst);
      });
      w.append(bytes.data(), bytes.size());
      prog.advance(bytes.size());
    }
    w.end_tensor();
    if (has_scale) {
      w.write(items[i + 1].spec.name, scales.data(), scales.size() * 4);
      prog.advance(scales.size() * 4);
    }
  }
  w.finish();
  prog.finish();

  nlohmann::json gen = nlohmann::json::object();
  if (!cfg.bos_token_ids.empty()) gen["bos_token_id"] = cfg.bos_token_ids.front();
  if (!cfg.eos_token_ids.empty())
    gen["eos_token_id"] = cfg.eos_token_ids.size() == 1 ? nlohmann::json(cfg.eos_token_ids[0]) : nlohmann::json(cfg.eos_token_ids);
  gen["do_sample"] = true;
  gen["temperature"] = 1.0;
  gen["top_p"] = 0.95;
  gen["top_k"] = 40;
  write_file_atomic(path_join(dir, "generation_config.json"), gen.dump(2) + "\n");
  write_file_atomic(path_join(dir, "config.json"), cj.dump(2) + "\n");  // last: the model is complete
}

}  // namespace mixq
