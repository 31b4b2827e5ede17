// Sizes predicted from a config agree with sizes measured on checkpoints of that config.
#include "model/model_summary.h"

#include <gtest/gtest.h>

#include "model/synth.h"
#include "model_test_util.h"

using namespace mixq;

namespace {
void expect_same(const ModelSummary& a, const ModelSummary& b) {
  ASSERT_EQ(a.classes.size(), b.classes.size());
  for (size_t i = 0; i < a.classes.size(); ++i) {
    EXPECT_EQ(a.classes[i].kind, b.classes[i].kind);
    EXPECT_EQ(a.classes[i].storage, b.classes[i].storage) << a.classes[i].kind;
    EXPECT_EQ(a.classes[i].count, b.classes[i].count) << a.classes[i].kind;
    EXPECT_EQ(a.classes[i].parameters, b.classes[i].parameters) << a.classes[i].kind;
    EXPECT_EQ(a.classes[i].bytes, b.classes[i].bytes) << a.classes[i].kind;
  }
  EXPECT_EQ(a.total_parameters, b.total_parameters);
  EXPECT_EQ(a.total_bytes, b.total_bytes);
}
}  // namespace

TEST(ModelSummary, ConfigPredictionMatchesTinyCheckpoint) {
  Checkpoint ck(std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2");
  auto cfg = load_minimax_m2_config(ck.config_path());
  auto s = summarize_checkpoint(ck, cfg);
  expect_same(summarize_config(cfg), s);
  EXPECT_EQ(s.total_bytes, ck.tensor_bytes());
  EXPECT_EQ(s.total_parameters, count_parameters(cfg).total);
}

TEST(ModelSummary, ConfigPredictionMatchesSynthFp8Checkpoint) {
  auto dir = mixq::testing::temp_dir("summary_fp8");
  SynthOptions o;
  o.config = default_synth_config();
  o.config.num_hidden_layers = 2;
  o.config.intermediate_size = 200;
  o.fp8 = true;
  write_synthetic_model(o, dir);
  Checkpoint ck(dir);
  auto cfg = load_minimax_m2_config(ck.config_path());
  auto s = summarize_checkpoint(ck, cfg);
  expect_same(summarize_config(cfg), s);
  EXPECT_EQ(s.total_bytes, ck.tensor_bytes());
  std::filesystem::remove_all(dir);
}
