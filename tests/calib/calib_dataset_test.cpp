// Calibration dataset spec + sampling: exact counts, determinism, long context by concatenation,
// chat with reasoning, clear errors naming the field, and tokenization through the text layer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "calib/calib_dataset.h"
#include "calib/calib_spec.h"
#include "calib/calib_tokenize.h"
#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/error.h"

using namespace mixq;
using namespace mixq::calib;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(MIXQ_SOURCE_DIR) + "/data/calib";

std::string default_spec() { return kData + "/default.yaml"; }

std::map<std::string, int64_t> count_by_source(const std::vector<CalibSample>& v) {
  std::map<std::string, int64_t> m;
  for (auto& s : v) ++m[s.source];
  return m;
}

// The error message of parsing `yaml` (base dir = the bundled data), or "" when it parses.
std::string parse_error(const std::string& yaml) {
  try {
    auto spec = parse_calib_spec(yaml, "t.yaml", kData);
    build_calibration_samples(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(CalibSpec, DefaultSpecParsesWithExactCounts) {
  CalibSpec spec = load_calib_spec(default_spec());
  EXPECT_EQ(spec.num_samples, 128);
  EXPECT_EQ(spec.max_seq_length, 2048);
  ASSERT_EQ(spec.sources.size(), 4u);
  // 128 x (.40, .25, .20, .15) = 51.2, 32, 25.6, 19.2 -> floors 51+32+25+19 = 127, +1 to math (.6).
  EXPECT_EQ(calib_source_counts(spec), (std::vector<int64_t>{51, 32, 26, 19}));
}

TEST(CalibSpec, LargestRemainderAndCounts) {
  auto counts = [](const std::string& y) { return calib_source_counts(parse_calib_spec(y, "t", kData)); };
  const std::string src = "    file: gsm8k_text.jsonl\n    text: '{question}'\n";
  // 2.5, 2.5, 5 -> floors 2, 2, 5; the one left goes to the first of the tied remainders.
  EXPECT_EQ(counts("num_samples: 10\nsources:\n  - name: a\n    share: 0.25\n" + src +
                   "  - name: b\n    share: 0.25\n" + src + "  - name: c\n    share: 0.5\n" + src),
            (std::vector<int64_t>{3, 2, 5}));
  // The largest remainder wins: 3.3333333, 3.3333333, 3.3333334 -> c gets the extra one.
  EXPECT_EQ(counts("num_samples: 10\nsources:\n  - name: a\n    share: 0.3333333333\n" + src +
                   "  - name: b\n    share: 0.3333333333\n" + src + "  - name: c\n    share: 0.3333333334\n" + src),
            (std::vector<int64_t>{3, 3, 4}));
  EXPECT_EQ(counts("num_samples: 10\nsources:\n  - name: a\n    count: 4\n" + src + "  - name: b\n    share: 0.5\n" +
                   src + "  - name: c\n    share: 0.5\n" + src),
            (std::vector<int64_t>{4, 3, 3}));
  // Counts only: num_samples may be omitted.
  auto spec = parse_calib_spec("sources:\n  - name: a\n    count: 3\n" + src + "  - name: b\n    count: 2\n" + src, "t", kData);
  EXPECT_EQ(spec.num_samples, 5);
}

TEST(CalibDataset, ExactCountsAndDeterminism) {
  CalibSpec spec = load_calib_spec(default_spec());
  auto a = build_calibration_samples(spec);
  auto b = build_calibration_samples(spec);
  ASSERT_EQ(a.size(), 128u);
  auto c = count_by_source(a);
  EXPECT_EQ(c["chat_reasoning"], 51);
  EXPECT_EQ(c["code"], 32);
  EXPECT_EQ(c["math"], 26);
  EXPECT_EQ(c["long_context"], 19);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].source, b[i].source);
    EXPECT_EQ(a[i].records, b[i].records);
    EXPECT_EQ(a[i].text, b[i].text);
    EXPECT_EQ(a[i].messages, b[i].messages);
  }
  // No record is drawn twice within a source.
  std::map<std::string, std::set<int64_t>> seen;
  for (auto& s : a) EXPECT_TRUE(seen[s.source].insert(s.records[0]).second);
  // Another seed picks other records.
  spec.seed = 99;
  auto d = build_calibration_samples(spec);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].records == d[i].records && a[i].source == d[i].source;
  EXPECT_LT(same, 10);
}

TEST(CalibDataset, AddingASourceKeepsTheOthersPicks) {
  CalibSpec spec = load_calib_spec(default_spec());
  auto picks = [](const std::vector<CalibSample>& v, const std::string& src) {
    std::set<int64_t> s;
    for (auto& x : v) if (x.source == src) s.insert(x.records[0]);
    return s;
  };
  auto a = build_calibration_samples(spec);
  CalibSpec two = spec;
  for (auto& s : two.sources) { s.count = calib_source_counts(spec)[size_t(&s - two.sources.data())]; s.share.reset(); }
  CalibSourceSpec extra = two.sources[2];
  extra.name = "math_extra";
  extra.count = 5;
  two.sources.push_back(extra);
  two.num_samples = 133;
  auto b = build_calibration_samples(two);
  EXPECT_EQ(picks(a, "code"), picks(b, "code"));
  EXPECT_EQ(picks(a, "chat_reasoning"), picks(b, "chat_reasoning"));
  EXPECT_EQ(count_by_source(b)["math_extra"], 5);
}

TEST(CalibDataset, LongContextIsConcatenatedConsecutiveParagraphs) {
  CalibSpec spec = load_calib_spec(default_spec());
  auto paras = load_txt_records(kData + "/frankenstein.txt", TxtSplit::Paragraphs);
  ASSERT_GT(paras.size(), 100u);
  for (auto& s : build_calibration_samples(spec)) {
    if (s.source != "long_context") continue;
    EXPECT_GE(s.text.size(), 8000u);
    ASSERT_GE(s.records.size(), 2u);
    std::string expect = paras[size_t(s.records[0])];
    for (size_t i = 1; i < s.records.size(); ++i) {
      EXPECT_EQ(s.records[i], (s.records[i - 1] + 1) % int64_t(paras.size()));
      expect += "\n\n" + paras[size_t(s.records[i])];
    }
    EXPECT_EQ(s.text, expect);
  }
}

TEST(CalibDataset, ChatWithReasoningSplitsTheAnswer) {
  CalibSpec spec = load_calib_spec(default_spec());
  auto recs = load_jsonl_records(kData + "/gsm8k_chat.jsonl");
  int chats = 0;
  for (auto& s : build_calibration_samples(spec)) {
    if (s.source != "chat_reasoning") continue;
    ++chats;
    ASSERT_EQ(s.format, SampleFormat::Chat);
    ASSERT_EQ(s.messages.size(), 2u);
    const auto& rec = recs[size_t(s.records[0])];
    EXPECT_EQ(s.messages[0]["role"], "user");
    EXPECT_EQ(s.messages[0]["content"], rec["question"]);
    const std::string ans = rec["answer"];
    const std::string content = s.messages[1]["content"], reasoning = s.messages[1]["reasoning_content"];
    EXPECT_EQ(content.rfind("#### ", 0), 0u);
    EXPECT_EQ(ans.substr(ans.rfind("#### ")), content);
    EXPECT_EQ(ans.find(reasoning), 0u);
  }
  EXPECT_EQ(chats, 51);
}

TEST(CalibDataset, FormatRecordAndPermutation) {
  nlohmann::ordered_json r = {{"a", "x"}, {"n", 3}, {"o", {1}}};
  EXPECT_EQ(format_record("{a}-{n} {{lit}}", r, "t"), "x-3 {lit}");
  EXPECT_THROW(format_record("{missing}", r, "t"), InputError);
  EXPECT_THROW(format_record("{o}", r, "t"), InputError);
  EXPECT_THROW(format_record("{a", r, "t"), InputError);
  EXPECT_THROW(format_record("a}", r, "t"), InputError);
  auto p = seeded_permutation(1000, 7);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[size_t(i)], i);
  EXPECT_EQ(p, seeded_permutation(1000, 7));
  EXPECT_NE(p, seeded_permutation(1000, 8));
}

TEST(CalibSpec, BadSpecsNameTheField) {
  const std::string ok_src = "  - name: a\n    share: 1.0\n    file: gsm8k_text.jsonl\n    text: '{question}'\n";
  struct Case { std::string yaml, needle; };
  const std::vector<Case> cases = {
      {"num_samples: 4\n", "sources"},
      {"num_samples: 4\nsources: []\n", "sources"},
      {"sources:\n" + ok_src, "num_samples"},
      {"num_samples: 0\nsources:\n" + ok_src, "num_samples"},
      {"num_samples: x\nsources:\n" + ok_src, "num_samples"},
      {"num_samples: 4\nmax_seq_length: 0\nsources:\n" + ok_src, "max_seq_length"},
      {"num_samples: 4\nbogus: 1\nsources:\n" + ok_src, "bogus"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 0.9\n    file: gsm8k_text.jsonl\n    text: '{question}'\n", "shares sum"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1.5\n    file: gsm8k_text.jsonl\n    text: '{q}'\n", "sources[0].share"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    count: 1\n    file: gsm8k_text.jsonl\n    text: '{q}'\n", "sources[0]"},
      {"num_samples: 4\nsources:\n  - share: 1\n    file: gsm8k_text.jsonl\n    text: '{q}'\n", "sources[0].name"},
      {"num_samples: 4\nsources:\n" + ok_src + "    format: audio\n", "sources[0].format"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: x.csv\n", "sources[0].file"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: gsm8k_text.jsonl\n", "sources[0].text"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: frankenstein.txt\n    format: chat\n", "sources[0].format"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: gsm8k_chat.jsonl\n    format: chat\n", "sources[0].messages"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: gsm8k_chat.jsonl\n    format: chat\n"
       "    messages: [{role: robot, field: question}]\n", "sources[0].messages[0].role"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: gsm8k_chat.jsonl\n    format: chat\n"
       "    messages: [{role: user, field: question}]\n    reasoning: true\n", "reasoning_separator"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: frankenstein.txt\n    split: words\n", "sources[0].split"},
      {"num_samples: 4\nsources:\n" + ok_src + ok_src, "sources[1].name"},
      {"num_samples: 2\nsources:\n  - name: a\n    count: 3\n    file: gsm8k_text.jsonl\n    text: '{q}'\n", "num_samples"},
      {"num_samples: 5000\nsources:\n" + ok_src, "has only 300 records"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: gsm8k_text.jsonl\n    text: '{nope}'\n", "no field 'nope'"},
      {"num_samples: 4\nsources:\n  - name: a\n    share: 1\n    file: missing.jsonl\n    text: '{q}'\n", "cannot open"},
      {"num_samples: [4\n", "not valid YAML"},
  };
  for (auto& c : cases) {
    const std::string err = parse_error(c.yaml);
    EXPECT_NE(err.find(c.needle), std::string::npos) << "yaml:\n" << c.yaml << "\nerror: " << err;
    if (!err.empty()) {
      EXPECT_NE(err.find("t.yaml"), std::string::npos) << err;
    }
  }
}

TEST(CalibDataset, BadJsonlLineNamesFileAndLine) {
  fs::path dir = fs::temp_directory_path() / "mixq_calib_badjsonl";
  fs::create_directories(dir);
  std::ofstream(dir / "x.jsonl") << "{\"q\": \"a\"}\n{broken\n";
  try {
    load_jsonl_records((dir / "x.jsonl").string());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.jsonl:2"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(CalibTokenize, DefaultSetThroughTheTinyModelsTokenizerAndTemplate) {
  const std::string model = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";
  auto tk = text::Tokenizer::load(model);
  auto chat = text::ChatTemplate::load(model);
  CalibSpec spec = load_calib_spec(default_spec());
  auto samples = build_calibration_samples(spec);
  auto toks = tokenize_calibration(samples, *tk, chat.get(), spec.max_seq_length);
  ASSERT_EQ(toks.size(), samples.size());
  int64_t total = 0, truncated = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    EXPECT_GT(toks[i].ids.size(), 8u);
    EXPECT_LE(int64_t(toks[i].ids.size()), spec.max_seq_length);
    total += int64_t(toks[i].ids.size());
    truncated += toks[i].truncated;
    if (samples[i].format == SampleFormat::Chat) {
      const std::string prompt = render_chat_sample(samples[i], *chat);
      EXPECT_NE(prompt.find("<think>"), std::string::npos);
      EXPECT_NE(prompt.find("]~b]ai"), std::string::npos);
      EXPECT_EQ(toks[i].ids, text::encode_prompt(*tk, prompt));
    }
    if (samples[i].source == "long_context") {
      EXPECT_TRUE(toks[i].truncated) << i;
    }
  }
  std::printf("default calibration set: %zu samples, %lld tokens, %lld truncated at %lld\n", toks.size(),
              (long long)total, (long long)truncated, (long long)spec.max_seq_length);
  EXPECT_THROW(tokenize_calibration(samples, *tk, nullptr, 2048), InputError);
}
