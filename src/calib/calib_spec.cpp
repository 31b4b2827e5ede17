#include "calib/calib_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "util/error.h"

namespace mixq::calib {

namespace fs = std::filesystem;

namespace {

struct Ctx {
  const std::string& what;
  [[noreturn]] void bad(const std::string& field, const std::string& msg) const {
    fail("calibration spec {}: {}: {}", what, field, msg);
  }
};

template <typename T>
T scalar_as(const YAML::Node& n, const Ctx& c, const std::string& field, const char* expected) {
  if (!n.IsScalar()) c.bad(field, std::string("expected ") + expected);
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    c.bad(field, std::string("expected ") + expected + ", got '" + n.Scalar() + "'");
  }
}

void check_keys(const YAML::Node& n, const Ctx& c, const std::string& where, const std::set<std::string>& allowed) {
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (!allowed.count(k)) c.bad(where.empty() ? k : where + "." + k, "unknown field");
  }
}

CalibSourceSpec parse_source(const YAML::Node& n, const Ctx& c, const std::string& at, const std::string& base_dir) {
  if (!n.IsMap()) c.bad(at, "expected a mapping");
  check_keys(n, c, at, {"name", "share", "count", "file", "format", "messages", "reasoning", "reasoning_separator",
                        "text", "split", "concat_min_chars"});
  CalibSourceSpec s;
  if (!n["name"]) c.bad(at + ".name", "missing");
  s.name = scalar_as<std::string>(n["name"], c, at + ".name", "a string");
  if (s.name.empty()) c.bad(at + ".name", "must not be empty");
  if (n["share"] && n["count"]) c.bad(at, "give either share or count, not both");
  if (!n["share"] && !n["count"]) c.bad(at, "missing share or count");
  if (n["share"]) {
    double v = scalar_as<double>(n["share"], c, at + ".share", "a number");
    if (!(v > 0.0 && v <= 1.0)) c.bad(at + ".share", "must be in (0, 1]");
    s.share = v;
  } else {
    int64_t v = scalar_as<int64_t>(n["count"], c, at + ".count", "an integer");
    if (v < 0) c.bad(at + ".count", "must be >= 0");
    s.count = v;
  }
  if (!n["file"]) c.bad(at + ".file", "missing");
  std::string file = scalar_as<std::string>(n["file"], c, at + ".file", "a path");
  fs::path p(file);
  s.file = p.is_absolute() || base_dir.empty() ? p.string() : (fs::path(base_dir) / p).string();
  const std::string ext = p.extension().string();
  if (ext != ".jsonl" && ext != ".txt") c.bad(at + ".file", "expected a .jsonl or .txt file, got '" + file + "'");
  const bool txt = ext == ".txt";

  const std::string fmt = n["format"] ? scalar_as<std::string>(n["format"], c, at + ".format", "text or chat") : "text";
  if (fmt == "text") s.format = SampleFormat::Text;
  else if (fmt == "chat") s.format = SampleFormat::Chat;
  else c.bad(at + ".format", "expected text or chat, got '" + fmt + "'");

  if (s.format == SampleFormat::Chat) {
    if (txt) c.bad(at + ".format", "chat needs a .jsonl file (messages come from record fields)");
    const YAML::Node m = n["messages"];
    if (!m || !m.IsSequence() || m.size() == 0) c.bad(at + ".messages", "chat needs a non-empty list of {role, field}");
    for (size_t i = 0; i < m.size(); ++i) {
      const std::string mi = at + ".messages[" + std::to_string(i) + "]";
      if (!m[i].IsMap()) c.bad(mi, "expected {role, field}");
      check_keys(m[i], c, mi, {"role", "field"});
      if (!m[i]["role"] || !m[i]["field"]) c.bad(mi, "needs role and field");
      MessageSpec ms{scalar_as<std::string>(m[i]["role"], c, mi + ".role", "a string"),
                     scalar_as<std::string>(m[i]["field"], c, mi + ".field", "a string")};
      if (ms.role != "system" && ms.role != "user" && ms.role != "assistant")
        c.bad(mi + ".role", "expected system, user or assistant, got '" + ms.role + "'");
      s.messages.push_back(ms);
    }
    if (n["reasoning"]) s.reasoning = scalar_as<bool>(n["reasoning"], c, at + ".reasoning", "true or false");
    if (n["reasoning_separator"])
      s.reasoning_separator = scalar_as<std::string>(n["reasoning_separator"], c, at + ".reasoning_separator", "a string");
    if (s.reasoning) {
      if (s.reasoning_separator.empty()) c.bad(at + ".reasoning_separator", "required (non-empty) when reasoning is true");
      if (std::none_of(s.messages.begin(), s.messages.end(), [](auto& x) { return x.role == "assistant"; }))
        c.bad(at + ".reasoning", "needs an assistant message");
    }
    if (n["text"]) c.bad(at + ".text", "only for format text");
    if (n["concat_min_chars"]) c.bad(at + ".concat_min_chars", "only for format text");
  } else {
    if (n["messages"]) c.bad(at + ".messages", "only for format chat");
    if (n["reasoning"] || n["reasoning_separator"]) c.bad(at + ".reasoning", "only for format chat");
    if (txt) {
      if (n["text"]) c.bad(at + ".text", "only for .jsonl files (a .txt record is the text)");
    } else {
      if (!n["text"]) c.bad(at + ".text", "missing: a template such as \"{question}\\n{answer}\"");
      s.text_template = scalar_as<std::string>(n["text"], c, at + ".text", "a string");
    }
    if (n["concat_min_chars"]) {
      s.concat_min_chars = scalar_as<int64_t>(n["concat_min_chars"], c, at + ".concat_min_chars", "an integer");
      if (s.concat_min_chars < 0) c.bad(at + ".concat_min_chars", "must be >= 0");
    }
  }
  if (n["split"]) {
    if (!txt) c.bad(at + ".split", "only for .txt files");
    const std::string sp = scalar_as<std::string>(n["split"], c, at + ".split", "paragraphs, lines or document");
    if (sp == "paragraphs") s.split = TxtSplit::Paragraphs;
    else if (sp == "lines") s.split = TxtSplit::Lines;
    else if (sp == "document") s.split = TxtSplit::Document;
    else c.bad(at + ".split", "expected paragraphs, lines or document, got '" + sp + "'");
  }
  return s;
}

}  // namespace

CalibSpec parse_calib_spec(const std::string& text, const std::string& what, const std::string& base_dir) {
  Ctx c{what};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("calibration spec {}: not valid YAML: {}", what, e.what());
  }
  if (!root.IsMap()) fail("calibration spec {}: expected a mapping at the top level", what);
  check_keys(root, c, "", {"num_samples", "max_seq_length", "seed", "sources"});
  CalibSpec spec;
  spec.path = what;
  if (root["max_seq_length"]) {
    spec.max_seq_length = scalar_as<int64_t>(root["max_seq_length"], c, "max_seq_length", "an integer");
    if (spec.max_seq_length < 1) c.bad("max_seq_length", "must be >= 1");
  }
  if (root["seed"]) spec.seed = scalar_as<uint64_t>(root["seed"], c, "seed", "a non-negative integer");
  const YAML::Node src = root["sources"];
  if (!src || !src.IsSequence() || src.size() == 0) c.bad("sources", "expected a non-empty list");
  std::set<std::string> names;
  for (size_t i = 0; i < src.size(); ++i) {
    const std::string at = "sources[" + std::to_string(i) + "]";
    spec.sources.push_back(parse_source(src[i], c, at, base_dir));
    if (!names.insert(spec.sources.back().name).second) c.bad(at + ".name", "duplicate name '" + spec.sources.back().name + "'");
  }
  int64_t counted = 0;
  double shares = 0.0;
  bool any_share = false;
  for (auto& s : spec.sources) {
    if (s.count) counted += *s.count;
    if (s.share) { shares += *s.share; any_share = true; }
  }
  if (root["num_samples"]) {
    spec.num_samples = scalar_as<int64_t>(root["num_samples"], c, "num_samples", "an integer");
    if (spec.num_samples < 1) c.bad("num_samples", "must be >= 1");
  } else if (any_share) {
    c.bad("num_samples", "missing (required when a source gives a share)");
  } else {
    spec.num_samples = counted;
  }
  if (any_share && std::fabs(shares - 1.0) > 1e-6) c.bad("sources", fmt::format("shares sum to {}, expected 1", shares));
  if (counted > spec.num_samples)
    c.bad("num_samples", fmt::format("{} is less than the sources' counts ({})", spec.num_samples, counted));
  if (!any_share && counted != spec.num_samples)
    c.bad("num_samples", fmt::format("{} differs from the sum of the sources' counts ({})", spec.num_samples, counted));
  if (spec.num_samples == 0) c.bad("num_samples", "the spec selects no samples");
  return spec;
}

CalibSpec load_calib_spec(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("calibration spec {}: cannot open", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_calib_spec(ss.str(), path, fs::path(path).parent_path().string());
}

std::vector<int64_t> calib_source_counts(const CalibSpec& spec) {
  std::vector<int64_t> n(spec.sources.size(), 0);
  int64_t left = spec.num_samples;
  for (size_t i = 0; i < n.size(); ++i)
    if (spec.sources[i].count) { n[i] = *spec.sources[i].count; left -= n[i]; }
  // Largest remainder: floors first, then +1 to the largest fractional parts (ties: spec order).
  std::vector<std::pair<double, size_t>> frac;
  int64_t given = 0;
  for (size_t i = 0; i < n.size(); ++i)
    if (spec.sources[i].share) {
      const double exact = *spec.sources[i].share * double(left);
      n[i] = int64_t(std::floor(exact + 1e-9));
      given += n[i];
      frac.push_back({exact - double(n[i]), i});
    }
  std::stable_sort(frac.begin(), frac.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < left && k < frac.size(); ++k, ++given) ++n[frac[k].second];
  return n;
}

std::string default_calib_spec_path() {
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("MIXQ_DATA_DIR")) tried.push_back(fs::path(env) / "calib" / "default.yaml");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    tried.push_back(exe.parent_path() / ".." / "data" / "calib" / "default.yaml");  // build dir in the tree
    tried.push_back(exe.parent_path() / ".." / "share" / "mixq" / "calib" / "default.yaml");  // installed
  }
  for (const auto& p : tried)
    if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
  fail("the default calibration spec (data/calib/default.yaml) was not found; set MIXQ_DATA_DIR or pass a spec file");
}

}  // namespace mixq::calib
