// export-gguf: INT4 -> Q4_0 nibble by nibble and scale by scale, the fp16 scale policy, and whole
// exports of the tiny model (W4A16 RTN quant, BF16 original, FP8-block release, split files) read
// back with the GGUF reader and compared, tensor by tensor, with the checkpoint they came from.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <set>

#include "io/checkpoint.h"
#include "io/gguf_reader.h"
#include "model/linear_weight.h"
#include "model/minimax_m2_config.h"
#include "model/tensor_table.h"
#include "quant/gguf_convert.h"
#include "quant/gguf_export.h"
#include "quant/quantize_job.h"
#include "quant/recipe.h"
#include "test_models.h"
#include "util/dtype.h"
#include "util/error.h"

using namespace mixq;
using namespace mixq::gguf;
using mixq::testing::kTinyDir;
using ::testing::HasSubstr;

namespace {

// A PackedInt4 weight held in memory: random nibbles, BF16 scales given per group.
struct Int4Fixture {
  int64_t out, in, G;
  std::vector<uint32_t> words;
  std::vector<uint16_t> scales;
  int64_t shape[2];
  LinearWeight w;
  Int4Fixture(int64_t o, int64_t i, int64_t g, uint32_t seed) : out(o), in(i), G(g) {
    std::mt19937 rng(seed);
    words.resize(size_t(out * in / 8));
    for (auto& x : words) x = rng();
    scales.resize(size_t(out * in / G));
    for (auto& s : scales) s = f32_to_bf16(std::ldexp(1.0f + float(rng() % 128) / 128.0f, -int(rng() % 12)) * (rng() % 2 ? 1 : -1));
    shape[0] = out;
    shape[1] = in;
    w.module = "m";
    w.format = WeightFormat::PackedInt4;
    w.out = out;
    w.in = in;
    w.group_size = G;
    w.packed = {"m.weight_packed", DType::I32, {out, in / 8}, reinterpret_cast<const uint8_t*>(words.data()), words.size() * 4};
    w.scale = {"m.weight_scale", DType::BF16, {out, in / G}, reinterpret_cast<const uint8_t*>(scales.data()), scales.size() * 2};
    w.shape_tensor = {"m.weight_shape", DType::I64, {2}, reinterpret_cast<const uint8_t*>(shape), 16};
  }
};

// Element c of row r of a Q4_0 tensor: (nibble, d bits).
std::pair<int, uint16_t> q4_0_at(const uint8_t* t, int64_t in, int64_t r, int64_t c) {
  const uint8_t* blk = t + size_t((r * in + c) / 32) * kQ4_0Bytes;
  uint16_t d;
  std::memcpy(&d, blk, 2);
  int j = int(c % 32);
  int nib = j < 16 ? blk[2 + j] & 0xF : blk[2 + j - 16] >> 4;
  return {nib, d};
}

// The compressed-tensors nibble u (= q + 8) of element (r, c).
int ct_nibble(const LinearWeight& w, int64_t r, int64_t c) {
  uint32_t word;
  std::memcpy(&word, w.packed.data + size_t(r * w.packed.shape[1] + c / 8) * 4, 4);
  return int((word >> (4 * (c % 8))) & 0xF);
}

// Every nibble and every scale of `w` against the Q4_0 bytes at `t`; returns elements compared.
uint64_t expect_lossless(const LinearWeight& w, const uint8_t* t) {
  uint64_t n = 0;
  const int64_t groups = w.scale.shape[1];
  for (int64_t r = 0; r < w.out; ++r)
    for (int64_t c = 0; c < w.in; ++c) {
      auto [nib, d] = q4_0_at(t, w.in, r, c);
      const float s = w.scale.get_f32(r * groups + c / w.group_size);
      if (nib != ct_nibble(w, r, c) || f16_to_f32(d) != s) {
        ADD_FAILURE() << w.module << " row " << r << " col " << c << ": nibble " << nib << " vs " << ct_nibble(w, r, c) << ", d "
                      << f16_to_f32(d) << " vs scale " << s;
        return n;
      }
      ++n;
    }
  return n;
}

std::string temp(const std::string& name) {
  std::string d = mixq::testing::temp_dir("gguf_" + name);
  std::filesystem::create_directories(d);
  return d;
}

void quantize_rtn(const std::string& model, const std::string& recipe, const std::string& out, bool keep_fp8 = true) {
  QuantizeOptions o;
  o.plan.keep_fp8 = keep_fp8;
  o.model_dir = model;
  o.output_dir = out;
  o.progress = false;
  o.plan.max_shard_bytes = 4 << 20;
  run_quantize(load_recipe(recipe), o);
}

ExportOptions quiet() {
  ExportOptions o;
  o.progress = false;
  return o;
}

}  // namespace

TEST(GgufConvert, Int4ToQ4_0IsNibbleExact) {
  for (int64_t G : {32, 64, 128}) {
    Int4Fixture f(5, 256, G, uint32_t(G));
    std::vector<uint8_t> out;
    ConvertStats st;
    convert_rows(f.w, 0, f.out, TensorType::Q4_0, ScalePolicy::Refuse, out, st);
    ASSERT_EQ(out.size(), size_t(5 * 256 / 32) * kQ4_0Bytes);
    EXPECT_EQ(expect_lossless(f.w, out.data()), uint64_t(5 * 256));
    EXPECT_EQ(st.changed, 0u);
    // And as values: (nibble - 8) * d == the reference dequantization, bit for bit.
    std::vector<float> ref = f.w.dequantize();
    for (int64_t r = 0; r < f.out; ++r)
      for (int64_t c = 0; c < f.in; ++c) {
        auto [nib, d] = q4_0_at(out.data(), f.in, r, c);
        ASSERT_EQ(float(nib - 8) * f16_to_f32(d), ref[size_t(r * f.in + c)]);
      }
    // Row ranges concatenate to the whole.
    std::vector<uint8_t> a, b;
    convert_rows(f.w, 0, 2, TensorType::Q4_0, ScalePolicy::Refuse, a, st);
    convert_rows(f.w, 2, 5, TensorType::Q4_0, ScalePolicy::Refuse, a, st);
    EXPECT_EQ(a, out);
  }
}

TEST(GgufConvert, ScalesOutsideFp16AreRefusedOrClampedAndCounted) {
  EXPECT_TRUE(scale_exact_in_f16(bf16_to_f32(f32_to_bf16(std::ldexp(1.0f, -17)))));
  EXPECT_FALSE(scale_exact_in_f16(std::ldexp(1.5f, -24)));  // 3 x 2^-25: finer than fp16 subnormal step 2^-24
  EXPECT_FALSE(scale_exact_in_f16(70000.0f));
  EXPECT_TRUE(scale_exact_in_f16(0.0f));
  Int4Fixture f(2, 64, 32, 7);
  f.scales[1] = f32_to_bf16(std::ldexp(1.5f, -24));
  f.scales[2] = f32_to_bf16(1e6f);
  std::vector<uint8_t> out;
  ConvertStats st;
  try {
    convert_rows(f.w, 0, 2, TensorType::Q4_0, ScalePolicy::Refuse, out, st);
    ADD_FAILURE() << "no refusal";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 group scale(s)"));
    EXPECT_THAT(e.what(), HasSubstr("--scales clamp"));
  }
  out.clear();
  convert_rows(f.w, 0, 2, TensorType::Q4_0, ScalePolicy::Clamp, out, st);
  EXPECT_EQ(st.changed, 2u);
  uint16_t d;
  std::memcpy(&d, out.data() + 2 * kQ4_0Bytes, 2);
  EXPECT_EQ(f16_to_f32(d), 65504.0f);
  std::memcpy(&d, out.data() + 1 * kQ4_0Bytes, 2);
  EXPECT_EQ(f16_to_f32(d), f16_to_f32(f32_to_f16(std::ldexp(1.5f, -24))));
}

TEST(GgufConvert, GroupSizesThatAreNotBlocksAreRefused) {
  Int4Fixture f(2, 64, 16, 3);
  EXPECT_THAT(conversion_problem(f.w, TensorType::Q4_0), HasSubstr("not a multiple of 32"));
  std::vector<uint8_t> out;
  ConvertStats st;
  EXPECT_THROW(convert_rows(f.w, 0, 2, TensorType::Q4_0, ScalePolicy::Refuse, out, st), InputError);
}

TEST(GgufExport, TinyW4A16IsLosslessTensorByTensor) {
  std::string d = temp("w4a16");
  quantize_rtn(kTinyDir, mixq::testing::kRecipes + "/minimax-m2.7-awq-g32-strix-2h.yaml", d + "/q");
  ExportReport rep = export_gguf(d + "/q", d + "/q.gguf", quiet());
  ASSERT_EQ(rep.files.size(), 1u);
  File g(d + "/q.gguf");
  Checkpoint ck(d + "/q");
  MiniMaxM2Config c = load_minimax_m2_config(ck.config_path());
  EXPECT_EQ(g.get_string("general.architecture"), "minimax-m2");
  EXPECT_EQ(g.get_u32("general.file_type"), 2u);
  EXPECT_EQ(g.get_u32("minimax-m2.expert_gating_func"), 2u);
  EXPECT_EQ(g.get_u32("minimax-m2.rope.dimension_count"), 32u);
  EXPECT_EQ(g.get_u32("minimax-m2.attention.key_length"), 64u);
  EXPECT_EQ(g.get_u32("minimax-m2.feed_forward_length"), 256u);
  EXPECT_EQ(g.get_string("tokenizer.ggml.pre"), "minimax-m2");
  EXPECT_EQ(g.get("tokenizer.ggml.tokens", ValueType::ARRAY).count(), 6144u);
  EXPECT_EQ(g.get("tokenizer.ggml.merges", ValueType::ARRAY).count(), 5879u);
  EXPECT_EQ(g.get_u32("tokenizer.ggml.bos_token_id"), 6139u);
  EXPECT_EQ(g.get_u32("tokenizer.ggml.eos_token_id"), 6137u);
  const Value& types = g.get("tokenizer.ggml.token_type", ValueType::ARRAY);
  EXPECT_EQ(types.at<int32_t>(32), 1);
  EXPECT_EQ(types.at<int32_t>(6139), 3);  // special added token: control
  EXPECT_EQ(types.at<int32_t>(6140), 4);  // <think>: user-defined
  EXPECT_EQ(g.get("tokenizer.ggml.tokens", ValueType::ARRAY).strs[6140], "<think>");
  EXPECT_FALSE(g.get_string("tokenizer.chat_template").empty());
  EXPECT_EQ(rep.skipped, 0);

  uint64_t nibbles = 0;
  int q4 = 0, exact_bf16 = 0;
  for (int l = 0; l < int(c.num_hidden_layers); ++l) {
    for (auto [wi, gname] : {std::pair{1, "ffn_gate_exps"}, {3, "ffn_up_exps"}, {2, "ffn_down_exps"}}) {
      const gguf::TensorInfo* t = g.tensor(fmt::format("blk.{}.{}.weight", l, gname));
      ASSERT_TRUE(t);
      ASSERT_EQ(t->type_name, "Q4_0");
      ASSERT_EQ(t->ne.size(), 3u);
      EXPECT_EQ(t->ne[2], c.num_local_experts);
      const uint64_t slab = t->nbytes / uint64_t(c.num_local_experts);
      for (int e = 0; e < int(c.num_local_experts); ++e) {
        LinearWeight w = load_linear(ck, names::expert(l, e, wi));
        ASSERT_EQ(w.format, WeightFormat::PackedInt4);
        EXPECT_EQ(t->ne[0], w.in);
        EXPECT_EQ(t->ne[1], w.out);
        nibbles += expect_lossless(w, g.data(*t) + slab * uint64_t(e));
        ++q4;
      }
    }
    // Attention stays BF16 byte for byte; norms and the router become F32 of the same values.
    for (auto [proj, gname] : {std::pair{"q_proj", "attn_q"}, {"k_proj", "attn_k"}, {"v_proj", "attn_v"}, {"o_proj", "attn_output"}}) {
      const gguf::TensorInfo* t = g.tensor(fmt::format("blk.{}.{}.weight", l, gname));
      TensorView v = ck.view(names::attn(l, proj) + ".weight");
      ASSERT_EQ(t->type_name, "BF16");
      ASSERT_EQ(t->nbytes, v.nbytes);
      EXPECT_EQ(std::memcmp(g.data(*t), v.data, v.nbytes), 0) << t->name;
      ++exact_bf16;
    }
    for (auto [src, gname] : {std::pair{names::input_norm(l) + ".weight", "attn_norm"}, {names::attn(l, "q_norm") + ".weight", "attn_q_norm"},
                              {names::router_gate(l) + ".weight", "ffn_gate_inp"}, {names::correction_bias(l), "exp_probs_b"}}) {
      const gguf::TensorInfo* t = g.tensor(fmt::format("blk.{}.{}.{}", l, gname, gname == std::string("exp_probs_b") ? "bias" : "weight"));
      ASSERT_TRUE(t) << gname;
      ASSERT_EQ(t->type_name, "F32");
      std::vector<float> want = ck.view(src).to_f32(), got(want.size());
      ASSERT_EQ(t->nbytes, want.size() * 4);
      std::memcpy(got.data(), g.data(*t), t->nbytes);
      EXPECT_EQ(got, want) << t->name;
    }
  }
  EXPECT_EQ(q4, int(3 * c.num_hidden_layers * c.num_local_experts));
  EXPECT_EQ(nibbles, uint64_t(q4) * 256 * 256);
  EXPECT_EQ(exact_bf16, int(4 * c.num_hidden_layers));
  const gguf::TensorInfo* emb = g.tensor("token_embd.weight");
  EXPECT_EQ(std::memcmp(g.data(*emb), ck.view("model.embed_tokens.weight").data, emb->nbytes), 0);
  const gguf::TensorInfo* head = g.tensor("output.weight");
  EXPECT_EQ(std::memcmp(g.data(*head), ck.view("lm_head.weight").data, head->nbytes), 0);
  std::filesystem::remove_all(d);
}

TEST(GgufExport, TinyBf16OriginalAndSplitFiles) {
  std::string d = temp("bf16");
  ExportReport one = export_gguf(kTinyDir, d + "/m.gguf", quiet());
  File g(d + "/m.gguf");
  EXPECT_EQ(g.get_u32("general.file_type"), 32u);
  Checkpoint ck(kTinyDir);
  const gguf::TensorInfo* t = g.tensor("blk.3.ffn_down_exps.weight");
  ASSERT_EQ(t->type_name, "BF16");
  for (int e = 0; e < 8; ++e) {
    TensorView v = ck.view(names::expert(3, e, 2) + ".weight");
    EXPECT_EQ(std::memcmp(g.data(*t) + v.nbytes * size_t(e), v.data, v.nbytes), 0) << e;
  }
  for (const auto& cl : one.classes) EXPECT_EQ(cl.exactness(), "exact") << cl.cls;

  ExportOptions o = quiet();
  o.split_max_bytes = 8u << 20;
  ExportReport rep = export_gguf(kTinyDir, d + "/s.gguf", o);
  ASSERT_GE(rep.files.size(), 3u);
  EXPECT_EQ(rep.files[0], d + "/s-00001-of-0000" + std::to_string(rep.files.size()) + ".gguf");
  size_t tensors = 0;
  for (size_t k = 0; k < rep.files.size(); ++k) {
    File p(rep.files[k]);
    EXPECT_EQ(p.get("split.no", ValueType::U16).u, k);
    EXPECT_EQ(p.get("split.count", ValueType::U16).u, rep.files.size());
    EXPECT_EQ(p.get("split.tensors.count", ValueType::I32).i, int64_t(g.tensors().size()));
    EXPECT_EQ(p.find("tokenizer.ggml.tokens") != nullptr, k == 0);
    for (const auto& x : p.tensors()) {
      const gguf::TensorInfo* y = g.tensor(x.name);
      ASSERT_TRUE(y);
      EXPECT_LE(x.nbytes, 8u << 20);
      EXPECT_EQ(std::memcmp(p.data(x), g.data(*y), x.nbytes), 0) << x.name;
      ++tensors;
    }
  }
  EXPECT_EQ(tensors, g.tensors().size());
  std::filesystem::remove_all(d);
}

TEST(GgufExport, Fp8BlockBecomesBf16F32OrQ8_0AsAsked) {
  std::string d = temp("fp8");
  mixq::testing::make_fp8_release(kTinyDir, d + "/fp8");
  Checkpoint ck(d + "/fp8");
  LinearWeight w = load_linear(ck, names::attn(2, "q_proj"));
  ASSERT_EQ(w.format, WeightFormat::Fp8Block);
  std::vector<float> ref = w.dequantize();
  for (TensorType tt : {TensorType::F32, TensorType::BF16, TensorType::Q8_0}) {
    ExportOptions o = quiet();
    o.fp8_as = tt;
    ExportReport rep = export_gguf(d + "/fp8", d + "/x.gguf", o);
    File g(d + "/x.gguf");
    const gguf::TensorInfo* t = g.tensor("blk.2.attn_q.weight");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->type, int32_t(tt));
    EXPECT_EQ(g.tensor("blk.2.ffn_up_exps.weight")->type, int32_t(tt));
    double maxrel = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      float got;
      if (tt == TensorType::F32) std::memcpy(&got, g.data(*t) + 4 * i, 4);
      else if (tt == TensorType::BF16) { uint16_t h; std::memcpy(&h, g.data(*t) + 2 * i, 2); got = bf16_to_f32(h); }
      else {
        const uint8_t* blk = g.data(*t) + (i / 32) * kQ8_0Bytes;
        uint16_t h;
        std::memcpy(&h, blk, 2);
        got = float(int8_t(blk[2 + i % 32])) * f16_to_f32(h);
      }
      if (tt == TensorType::F32) {
        ASSERT_EQ(got, ref[i]) << i;
      }
      if (ref[i] != 0) maxrel = std::max(maxrel, double(std::fabs(got - ref[i]) / std::fabs(ref[i])));
    }
    if (tt == TensorType::BF16) {
      EXPECT_LE(maxrel, 1.0 / 256);  // round to nearest, 8 significant bits
    } else if (tt == TensorType::Q8_0) {
      EXPECT_GT(maxrel, 0.0);
    }
    bool saw_attention = false;
    for (const auto& cl : rep.classes)
      if (cl.cls == "attention") {
        saw_attention = true;
        EXPECT_EQ(cl.source, "FP8-block");
        const std::string want = tt == TensorType::F32 ? "exact" : tt == TensorType::BF16 ? "rounded" : "requantized";
        EXPECT_THAT(cl.exactness(), HasSubstr(want));
      }
    EXPECT_TRUE(saw_attention);
  }
  std::filesystem::remove_all(d);
}

// The published FP8-INT4 layout: compressed-tensors FP8-block attention (weight_scale) kept from an
// FP8 release, INT4 g32 experts. Experts stay lossless; attention becomes BF16 with its rounding counted.
TEST(GgufExport, CompressedTensorsFp8AttentionWithInt4Experts) {
  std::string d = temp("ct_fp8");
  mixq::testing::make_fp8_release(kTinyDir, d + "/fp8");
  quantize_rtn(d + "/fp8", mixq::testing::kRecipes + "/minimax-m2.1-fp8-int4-awq.yaml", d + "/q");
  ExportReport rep = export_gguf(d + "/q", d + "/q.gguf", quiet());
  Checkpoint ck(d + "/q");
  LinearWeight q = load_linear(ck, names::attn(0, "q_proj"));
  ASSERT_EQ(q.format, WeightFormat::Fp8Block);
  File g(d + "/q.gguf");
  EXPECT_EQ(g.tensor("blk.0.attn_q.weight")->type_name, "BF16");
  const gguf::TensorInfo* t = g.tensor("blk.5.ffn_gate_exps.weight");
  ASSERT_EQ(t->type_name, "Q4_0");
  for (int e = 0; e < 8; ++e) expect_lossless(load_linear(ck, names::expert(5, e, 1)), g.data(*t) + t->nbytes / 8 * size_t(e));
  std::set<std::string> seen;
  for (const auto& cl : rep.classes) seen.insert(cl.cls + "|" + cl.source + "|" + cl.target);
  EXPECT_TRUE(seen.count("attention|FP8-block|BF16"));
  EXPECT_TRUE(seen.count("experts|W4A16-g32|Q4_0"));
  std::filesystem::remove_all(d);
}

TEST(GgufExport, BadInputIsAnInputError) {
  std::string d = temp("bad");
  EXPECT_THROW(export_gguf(d + "/missing", d + "/x.gguf", quiet()), InputError);
  // A checkpoint without tokenizer.json: refused before any file appears.
  std::filesystem::create_directories(d + "/notok");
  for (const char* f : {"config.json", "model.safetensors"})
    std::filesystem::copy_file(kTinyDir + "/" + f, d + "/notok/" + f);
  try {
    export_gguf(d + "/notok", d + "/y.gguf", quiet());
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("tokenizer.json"));
  }
  EXPECT_FALSE(std::filesystem::exists(d + "/y.gguf"));
  for (const auto& e : std::filesystem::directory_iterator(d)) EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  std::filesystem::remove_all(d);
}
