#include "calib/calib_dataset.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace mixq::calib {

namespace {

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("{}: cannot open", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, n) without modulo bias (rejection).
uint64_t bounded(uint64_t& state, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t r = splitmix64(state);
    if (r < limit) return r % n;
  }
}

std::string field_text(const nlohmann::ordered_json& record, const std::string& field, const std::string& what) {
  if (!record.is_object() || !record.contains(field)) fail("{}: record has no field '{}'", what, field);
  const auto& v = record[field];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  fail("{}: field '{}' is not a string or number", what, field);
}

}  // namespace

std::vector<nlohmann::ordered_json> load_jsonl_records(const std::string& path) {
  std::istringstream in(read_file(path, path));
  std::vector<nlohmann::ordered_json> out;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    try {
      out.push_back(nlohmann::ordered_json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      fail("{}:{}: not a JSON object: {}", path, lineno, e.what());
    }
    if (!out.back().is_object()) fail("{}:{}: expected a JSON object", path, lineno);
  }
  return out;
}

std::vector<std::string> load_txt_records(const std::string& path, TxtSplit split) {
  std::string text = read_file(path, path);
  std::vector<std::string> out;
  if (split == TxtSplit::Document) {
    if (!trim(text).empty()) out.push_back(text);
    return out;
  }
  std::istringstream in(text);
  std::string line, para;
  auto flush = [&] {
    std::string t = trim(para);
    if (!t.empty()) out.push_back(t);
    para.clear();
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (split == TxtSplit::Lines) {
      if (!trim(line).empty()) out.push_back(line);
    } else if (trim(line).empty()) {
      flush();
    } else {
      if (!para.empty()) para += '\n';
      para += line;
    }
  }
  if (split == TxtSplit::Paragraphs) flush();
  return out;
}

std::string format_record(const std::string& tmpl, const nlohmann::ordered_json& record, const std::string& what) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const char ch = tmpl[i];
    if ((ch == '{' || ch == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == ch) {
      out += ch;
      ++i;
    } else if (ch == '{') {
      const size_t close = tmpl.find('}', i);
      if (close == std::string::npos) fail("{}: unclosed '{{' in text template", what);
      out += field_text(record, tmpl.substr(i + 1, close - i - 1), what);
      i = close;
    } else if (ch == '}') {
      fail("{}: unmatched '}}' in text template (write '}}}}' for a brace)", what);
    } else {
      out += ch;
    }
  }
  return out;
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[size_t(i)] = i;
  uint64_t st = seed;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[size_t(i)], p[bounded(st, uint64_t(i) + 1)]);
  return p;
}

uint64_t source_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name, mixed with the seed
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  uint64_t x = seed ^ h;
  return splitmix64(x);
}

namespace {

void build_source(const CalibSpec& spec, const CalibSourceSpec& src, int64_t count, std::vector<CalibSample>& out) {
  if (count == 0) return;
  const std::string what = fmt::format("calibration spec {}: source '{}'", spec.path, src.name);
  const bool txt = src.file.size() >= 4 && src.file.compare(src.file.size() - 4, 4, ".txt") == 0;
  std::vector<nlohmann::ordered_json> records;
  std::vector<std::string> texts;  // text sources: one formatted text per record
  if (!std::filesystem::is_regular_file(src.file)) fail("{}: file: cannot open {}", what, src.file);
  if (txt) {
    texts = load_txt_records(src.file, src.split);
  } else {
    records = load_jsonl_records(src.file);
    if (src.format == SampleFormat::Text)
      for (size_t i = 0; i < records.size(); ++i)
        texts.push_back(format_record(src.text_template, records[i], fmt::format("{} ({}:{})", what, src.file, i + 1)));
  }
  const int64_t n = int64_t(txt || src.format == SampleFormat::Text ? texts.size() : records.size());
  if (count > n)
    fail("{}: needs {} samples but {} has only {} records", what, count, src.file, n);
  std::vector<int64_t> perm = seeded_permutation(n, source_seed(spec.seed, src.name));
  const std::string joiner = src.split == TxtSplit::Lines && txt ? "\n" : "\n\n";
  for (int64_t k = 0; k < count; ++k) {
    const int64_t r = perm[size_t(k)];
    CalibSample s;
    s.source = src.name;
    s.format = src.format;
    if (src.format == SampleFormat::Text) {
      // Long context: records r, r+1, ... (wrapping) joined until the text reaches concat_min_chars.
      s.text = texts[size_t(r)];
      s.records.push_back(r);
      for (int64_t j = 1; int64_t(s.text.size()) < src.concat_min_chars && j < n; ++j) {
        const int64_t next = (r + j) % n;
        s.text += joiner + texts[size_t(next)];
        s.records.push_back(next);
      }
    } else {
      const auto& rec = records[size_t(r)];
      const std::string at = fmt::format("{} ({}:{})", what, src.file, r + 1);
      s.messages = nlohmann::ordered_json::array();
      size_t last_assistant = SIZE_MAX;
      for (size_t i = 0; i < src.messages.size(); ++i)
        if (src.messages[i].role == "assistant") last_assistant = i;
      for (size_t i = 0; i < src.messages.size(); ++i) {
        std::string content = field_text(rec, src.messages[i].field, at);
        nlohmann::ordered_json m = {{"role", src.messages[i].role}};
        if (src.reasoning && i == last_assistant) {
          const size_t cut = content.rfind(src.reasoning_separator);
          if (cut != std::string::npos) {
            m["reasoning_content"] = trim(content.substr(0, cut));
            content = content.substr(cut);
          }
        }
        m["content"] = content;
        s.messages.push_back(std::move(m));
      }
      s.records.push_back(r);
    }
    out.push_back(std::move(s));
  }
}

}  // namespace

std::vector<CalibSample> build_calibration_samples(const CalibSpec& spec) {
  const std::vector<int64_t> counts = calib_source_counts(spec);
  std::vector<CalibSample> grouped;
  for (size_t i = 0; i < spec.sources.size(); ++i) build_source(spec, spec.sources[i], counts[i], grouped);
  MIXQ_ASSERT(int64_t(grouped.size()) == spec.num_samples);
  std::vector<int64_t> order = seeded_permutation(int64_t(grouped.size()), source_seed(spec.seed, ""));
  std::vector<CalibSample> out;
  out.reserve(grouped.size());
  for (int64_t i : order) out.push_back(std::move(grouped[size_t(i)]));
  return out;
}

}  // namespace mixq::calib
