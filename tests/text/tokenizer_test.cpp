// Tokenizer tests. Goldens come from the real HF `tokenizers` (tests/js/make_text_goldens.js):
// synthetic tokenizer.json files that each exercise a group of components.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "text/decode_stream.h"
#include "text/tokenizer.h"
#include "text/utf8.h"
#include "util/error.h"

using mixq::text::DecodeStream;
using mixq::text::Tokenizer;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const std::string kTiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";

const Tokenizer& tiny() {
  static auto tk = Tokenizer::load(kTiny);
  return *tk;
}

}  // namespace

TEST(Tokenizer, SyntheticGoldensFromHfTokenizers) {
  auto golden = nlohmann::json::parse(slurp(std::string(MIXQ_SOURCE_DIR) + "/tests/golden/text/synthetic_tokenizers.json"));
  ASSERT_GE(golden.size(), 6u);
  size_t n = 0;
  for (auto& g : golden) {
    auto tk = Tokenizer::from_json_text(g["tokenizer"].dump(), g["name"].get<std::string>());
    for (auto& c : g["cases"]) {
      std::string text = c["text"];
      SCOPED_TRACE(g["name"].get<std::string>() + ": " + nlohmann::json(text).dump());
      auto ids = c["ids"].get<std::vector<int32_t>>();
      EXPECT_EQ(tk->encode(text, true), ids);
      EXPECT_EQ(tk->encode(text, false), c["ids_no_special"].get<std::vector<int32_t>>());
      EXPECT_EQ(tk->decode(ids, false), c["decoded"].get<std::string>());
      EXPECT_EQ(tk->decode(ids, true), c["decoded_skip"].get<std::string>());
      ++n;
    }
  }
  EXPECT_GE(n, 100u);
}

TEST(Tokenizer, TinyModelSpecialTokensAreSingleIds) {
  const auto& tk = tiny();
  auto think = tk.token_to_id("<think>");
  auto bos = tk.token_to_id("]~!b[");
  ASSERT_TRUE(think && bos);
  auto ids = tk.encode("]~!b[]~b]user\nhi[e~[\n<think>\n", false);
  EXPECT_EQ(ids.front(), *bos);
  EXPECT_NE(std::find(ids.begin(), ids.end(), *think), ids.end());
  // <think> is an added but non-special token: it survives skip_special_tokens.
  EXPECT_EQ(tk.decode(ids, true), "user\nhi\n<think>\n");
  EXPECT_EQ(tk.decode(ids, false), "]~!b[]~b]user\nhi[e~[\n<think>\n");
}

TEST(Tokenizer, TinyModelRoundTripsText) {
  const auto& tk = tiny();
  for (std::string s : {"", " ", "Hello, world!", "  two  spaces\n\n\ttab", "数字 123456 emoji 😀👍🏽",
                        "def f(x):\n    return x ** 2\n", "Ünïcödé ΣΑΣ"}) {
    EXPECT_EQ(tk.decode(tk.encode(s)), s) << s;
  }
}

TEST(Tokenizer, InvalidUtf8IsReplacedLikeHf) {
  const auto& tk = tiny();
  // Maximal-subpart replacement: "\xE2\x82" is one U+FFFD, "\xFF" another.
  std::string bad = "a\xE2\x82" "b\xFF" "c";
  EXPECT_EQ(mixq::text::utf8_sanitize(bad), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
  EXPECT_EQ(tk.encode(bad), tk.encode("a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c"));
  EXPECT_EQ(tk.decode(tk.encode(bad)), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
}

TEST(Tokenizer, DecodeStreamNeverSplitsCharacters) {
  const auto& tk = tiny();
  std::string text = "Grüße 😀 из Москвы — 東京 ok\n<think>x</think>";
  auto ids = tk.encode(text, false);
  DecodeStream ds(tk, false);
  std::string acc;
  for (int32_t id : ids) {
    std::string piece = ds.step(id);
    EXPECT_TRUE(mixq::text::utf8_valid(piece)) << "piece cuts a character";
    acc += piece;
  }
  acc += ds.flush();
  EXPECT_EQ(acc, tk.decode(ids));
  EXPECT_EQ(acc, text);
}

TEST(Tokenizer, DecodeStreamHoldsIncompleteBytes) {
  // Byte-level tokens for the 4 bytes of 😀 one at a time: nothing until the last.
  const auto& tk = tiny();
  const auto& m = tk;
  std::vector<int32_t> ids;
  for (const char* t : {"ð", "Ł", "ĺ", "Ģ"}) {  // byte-level spelling of F0 9F 98 80
    auto id = m.token_to_id(t);
    ASSERT_TRUE(id.has_value()) << t;
    ids.push_back(*id);
  }
  DecodeStream ds(tk, false);
  EXPECT_EQ(ds.step(ids[0]), "");
  EXPECT_EQ(ds.step(ids[1]), "");
  EXPECT_EQ(ds.step(ids[2]), "");
  EXPECT_EQ(ds.step(ids[3]), "😀");
  EXPECT_EQ(ds.flush(), "");
  DecodeStream cut(tk, false);
  EXPECT_EQ(cut.step(ids[0]), "");
  EXPECT_EQ(cut.flush(), "\xEF\xBF\xBD");
}

TEST(Tokenizer, BadInputIsAnInputError) {
  EXPECT_THROW(Tokenizer::load("/nonexistent/tokenizer.json"), mixq::InputError);
  EXPECT_THROW(Tokenizer::from_json_text("{not json", "x"), mixq::InputError);
  EXPECT_THROW(Tokenizer::from_json_text(R"({"model": {"type": "Unigram", "vocab": []}})", "x"), mixq::InputError);
  EXPECT_THROW(Tokenizer::from_json_text(
                   R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "x"),
               mixq::InputError);
  EXPECT_THROW(Tokenizer::from_json_text(
                   R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(("}, "behavior": "Isolated"},
                       "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})", "x"),
               mixq::InputError);
}
