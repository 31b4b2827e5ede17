#include "eval/kld.h"

#include <gtest/gtest.h>

#include <cmath>

#include "runtime/model.h"
#include "util/file_util.h"

namespace mixq::eval {
namespace {

const std::string kTiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";

TEST(Kld, RowMatchesHandComputedValue) {
  // p = softmax(log [0.5, 0.25, 0.25]), q = softmax(log [0.25, 0.5, 0.25]) (shifted logits: softmax
  // is shift invariant). KL = 0.5 ln 2 + 0.25 ln 0.5 = 0.25 ln 2.
  float p[3] = {std::log(0.5f) + 3, std::log(0.25f) + 3, std::log(0.25f) + 3};
  float q[3] = {std::log(0.25f) - 7, std::log(0.5f) - 7, std::log(0.25f) - 7};
  bool agree = true;
  EXPECT_NEAR(kl_divergence_row(p, q, 3, &agree), 0.25 * std::log(2.0), 1e-7);
  EXPECT_FALSE(agree);
  EXPECT_NEAR(kl_divergence_row(p, p, 3, &agree), 0.0, 1e-15);
  EXPECT_TRUE(agree);
  // Large logits do not overflow.
  float big[3] = {1000, 0, -1000}, big2[3] = {999, 0, -1000};
  EXPECT_TRUE(std::isfinite(kl_divergence_row(big, big2, 3, &agree)));
  EXPECT_TRUE(agree);
}

TEST(Kld, ModelAgainstItselfIsZeroWithFullTop1) {
  Model m(kTiny);
  auto seqs = text_sequences(read_file(kTiny + "/valid.txt"), kTiny, 64, 128);
  auto chat = gsm8k_chat_sequences(std::string(MIXQ_SHARED_DIR) + "/assets/gsm8k/test.jsonl", kTiny, 64, 128);
  ASSERT_EQ(seqs.size(), 2u);
  ASSERT_FALSE(chat.empty());
  EXPECT_EQ(chat[0].ids.size(), 64u);
  for (auto& s : chat) seqs.push_back(s);
  KldResult r = compare_models(m, m, seqs);
  EXPECT_EQ(r.all.positions, 256);
  EXPECT_EQ(r.all.mean_kld(), 0.0);
  EXPECT_EQ(r.all.top1(), 1.0);
  ASSERT_EQ(r.by_source.size(), 2u);
  EXPECT_EQ(r.by_source[0].first, "text");
  EXPECT_EQ(r.by_source[1].first, "gsm8k_chat");
  EXPECT_EQ(r.to_json()["by_source"]["gsm8k_chat"]["positions"], 128);
}

TEST(Kld, RejectsTokensOutsideTheVocabulary) {
  Model m(kTiny);
  std::vector<EvalSequence> s{{"x", {1, 999999}}};
  EXPECT_THROW(compare_models(m, m, s), InputError);
}

}  // namespace
}  // namespace mixq::eval
