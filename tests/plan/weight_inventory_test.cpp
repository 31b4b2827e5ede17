#include "plan/weight_inventory.h"

#include <gtest/gtest.h>

#include "model/model_summary.h"
#include "plan_test_util.h"
#include "util/error.h"

using namespace mixq;
using plantest::m27;

TEST(WeightInventory, Fp8ReleaseBytesByHand) {
  // Per layer: FP8 q/k/v/o + F32 128x128 block scales, FP8 experts + scales, F32 router gate and
  // bias, BF16 norms; plus BF16 embedding, lm_head and final norm (minimax-m2.md §2).
  const uint64_t attn = (6144ull * 3072 + 48 * 24 * 4) + 2 * (1024ull * 3072 + 8 * 24 * 4) + (3072ull * 6144 + 24 * 48 * 4);
  const uint64_t expert = 2 * (1536ull * 3072 + 12 * 24 * 4) + (3072ull * 1536 + 24 * 12 * 4);
  const uint64_t layer = attn + 256 * expert + 256ull * 3072 * 4 + 256 * 4 + (2 * 3072 + 6144 + 1024) * 2;
  const uint64_t total = 62 * layer + 2 * 200064ull * 3072 * 2 + 3072 * 2;
  const auto inv = inventory_from_config(m27());
  EXPECT_EQ(inv.total_bytes(), total);
  EXPECT_EQ(inv.total_bytes(), summarize_config(m27()).total_bytes);  // agrees with mixq inspect
  EXPECT_EQ(inv.modules.size(), 3u + 62u * (10 + 3 * 256));
}

TEST(WeightInventory, Bf16SourceIsTwoBytesPerParameterBiasF32) {
  const auto inv = inventory_from_config(m27(), DType::BF16);
  // 228,689,764,864 parameters x 2 bytes, with the 62 x 256 correction-bias values in F32.
  EXPECT_EQ(inv.total_bytes(), 228689764864ull * 2 + 62 * 256 * 2);
}

TEST(WeightInventory, CompressedTensorsConfigNeedsTensors) {
  auto j = m27().raw;
  j["quantization_config"] = {{"quant_method", "compressed-tensors"}, {"format", "pack-quantized"}, {"config_groups", nlohmann::json::object()}};
  MiniMaxM2Config c;
  try {
    c = parse_minimax_m2_config(j, "x");
  } catch (const InputError&) {
    GTEST_SKIP() << "config parser rejects this minimal compressed-tensors block";
  }
  if (c.quant != CheckpointQuant::CompressedTensors) GTEST_SKIP();
  EXPECT_THROW(inventory_from_config(c), InputError);
}

TEST(WeightInventory, CheckpointBytesAreEveryTensor) {
  Checkpoint ck(std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2");
  const auto cfg = load_minimax_m2_config(ck.config_path());
  const auto inv = inventory_from_checkpoint(ck, cfg);
  EXPECT_EQ(inv.origin, "checkpoint");
  EXPECT_EQ(inv.total_bytes(), ck.tensor_bytes());
  EXPECT_GT(inv.file_bytes, inv.total_bytes());  // headers too
  EXPECT_EQ(inv.total_bytes(), summarize_checkpoint(ck, cfg).total_bytes);
}
