// The terminal summary of awq_report.json (calib/awq_summary.h) that `mixq quantize` prints.
#include "calib/awq_summary.h"

#include <gtest/gtest.h>

using namespace mixq::calib;
using Json = nlohmann::ordered_json;

namespace {
Json mapping(double ratio, bool duo, double id, double best) {
  return {{"skipped", false}, {"best_index", 4}, {"ratio", ratio}, {"duo", duo}, {"loss_identity", id}, {"loss_best", best}};
}
size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(AwqSummary, OneRowPerLayerAndMappingWithRatioAndLosses) {
  Json r = {{"algorithm", "awq"}, {"transform", "awq(x)"}, {"calibration_tokens", 3444}, {"calibration_sequences", 16}};
  Json layers = Json::array();
  for (int l = 0; l < 2; ++l) {
    Json w2 = Json::array({mapping(0.1, false, 2.0, 1.0), mapping(0.5, false, 2.0, 1.0), mapping(0.3, true, 4.0, 3.0),
                           Json{{"skipped", true}}});
    layers.push_back({{"layer", l}, {"tokens", 3444}, {"norm_mapping", mapping(0.45, true, 0.01, 0.008)}, {"w3_w2_mappings", w2},
                      {"routing_change_compensated", 0.0009}, {"routing_change_uncompensated", 0.0276}});
  }
  r["layers"] = layers;
  const std::string s = format_awq_summary(r);
  EXPECT_NE(s.find("3,444 calibration tokens in 16 sequences; awq(x)"), std::string::npos) << s;
  EXPECT_EQ(count(s, "post_attention_layernorm"), 2u) << s;
  EXPECT_EQ(count(s, "w3 -> w2 (4 experts)"), 2u) << s;
  // Norm mapping: chosen ratio with the duo flag, losses, chosen / identity, routing change.
  EXPECT_NE(s.find("0.45 duo"), std::string::npos) << s;
  EXPECT_NE(s.find("1.0000e-02 -> 8.0000e-03"), std::string::npos) << s;
  EXPECT_NE(s.find("0.800x"), std::string::npos) << s;
  EXPECT_NE(s.find("0.0009 (0.0276)"), std::string::npos) << s;
  // Experts folded: ratio range and median, losses summed over the non-skipped experts (8 -> 5).
  EXPECT_NE(s.find("0.10..0.50"), std::string::npos) << s;
  EXPECT_NE(s.find("8.0000e+00 -> 5.0000e+00"), std::string::npos) << s;
  EXPECT_NE(s.find("0.625x"), std::string::npos) << s;
  EXPECT_NE(s.find("ratio median 0.30, 1 skipped"), std::string::npos) << s;
  EXPECT_EQ(s.find("end to end"), std::string::npos);

  r["end_to_end"] = {{"positions", 4096}, {"mean_kld", 0.005177}, {"max_kld", 0.3}, {"top1_agreement", 0.9558},
                     {"by_source", {{"text", {{"mean_kld", 0.003545}, {"top1_agreement", 0.96}}}}}};
  const std::string e = format_awq_summary(r);
  EXPECT_NE(e.find("end to end vs the source (mixq eval kld): 4096 positions, mean KLD 0.005177, top-1 agreement 0.9558; text 0.003545 / 0.9600"),
            std::string::npos)
      << e;
}

TEST(AwqSummary, SkippedMappingsAndEmptyReportsDoNotBreakIt) {
  Json r = {{"calibration_tokens", 0}, {"layers", Json::array({Json{{"layer", 5},
                                                                      {"norm_mapping", {{"skipped", true}}},
                                                                      {"w3_w2_mappings", Json::array({Json{{"skipped", true}}})}}})}};
  const std::string s = format_awq_summary(r);
  EXPECT_EQ(count(s, "skipped (not smoothed)"), 2u) << s;  // norm row, experts row
  EXPECT_EQ(s.find("0.0000 ("), std::string::npos) << s;   // no routing change for a layer not smoothed
  EXPECT_NE(format_awq_summary(Json::object()).find("0 calibration tokens"), std::string::npos);
}
