#include "eval/task_data.h"

#include <unistd.h>

#include <climits>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "util/error.h"
#include "util/file_util.h"

namespace mixq::eval {

namespace {

// Rewrites bare NaN / Infinity / -Infinity outside strings (see kNonFinite).
std::string quote_non_finite(const std::string& line) {
  if (line.find("NaN") == std::string::npos && line.find("Infinity") == std::string::npos) return line;
  std::string out;
  bool in_str = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_str) {
      out += c;
      if (c == '\\' && i + 1 < line.size()) out += line[++i];
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') { in_str = true; out += c; continue; }
    auto at = [&](const char* tok) { return line.compare(i, std::strlen(tok), tok) == 0; };
    // kNonFinite, JSON-escaped
    if (at("-Infinity")) { out += "\"\\u0001mixq-float:-inf\""; i += 8; }
    else if (at("Infinity")) { out += "\"\\u0001mixq-float:inf\""; i += 7; }
    else if (at("NaN")) { out += "\"\\u0001mixq-float:nan\""; i += 2; }
    else out += c;
  }
  return out;
}

}  // namespace

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<nlohmann::json> rows;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(quote_non_finite(line), nullptr, false);
    if (!j.is_object()) fail("{}:{}: not a JSON object", path, n);
    rows.push_back(std::move(j));
  }
  return rows;
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  const std::string s = read_file(path);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  int line = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') { field += '"'; ++i; }
        else quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') { quoted = true; any = true; }
    else if (c == ',') { row.push_back(std::move(field)); field.clear(); any = true; }
    else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      if (any || !field.empty()) { row.push_back(std::move(field)); rows.push_back(std::move(row)); }
      row.clear(); field.clear(); any = false; ++line;
    } else { field += c; any = true; }
  }
  if (quoted) fail("{}:{}: unterminated quoted field", path, line);
  if (any || !field.empty()) { row.push_back(std::move(field)); rows.push_back(std::move(row)); }
  return rows;
}

std::string find_data_dir(const std::string& flag) {
  namespace fs = std::filesystem;
  if (!flag.empty()) {
    if (!is_directory(flag)) fail("--data {}: not a directory", flag);
    return flag;
  }
  if (const char* env = std::getenv("MIXQ_DATA_DIR"); env && *env) {
    if (!is_directory(env)) fail("MIXQ_DATA_DIR={}: not a directory", env);
    return env;
  }
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    fs::path exe = fs::path(std::string(buf, size_t(n))).parent_path();
    for (const char* rel : {"../data/eval", "../../data/eval", "../share/mixq/eval"})
      if (is_directory((exe / rel).string())) return fs::weakly_canonical(exe / rel).string();
  }
  fail("eval tasks: cannot find the benchmark data (data/eval): give --data DIR or set MIXQ_DATA_DIR");
}

}  // namespace mixq::eval
