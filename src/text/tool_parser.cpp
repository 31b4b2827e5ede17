#include "text/tool_parser.h"

#include <cmath>
#include <random>
#include <set>

#include "text/py_json.h"
#include "text/utf8.h"

namespace mixq::text {

namespace {

constexpr std::string_view kStart = "<minimax:tool_call>";
constexpr std::string_view kEnd = "</minimax:tool_call>";
constexpr std::string_view kInvoke = "<invoke name=";
constexpr std::string_view kInvokeEnd = "</invoke>";
constexpr std::string_view kParam = "<parameter name=";
constexpr std::string_view kParamEnd = "</parameter>";

std::string py_strip(std::string_view s) { return std::string(py::strip(s)); }

// re.findall(r"OPEN(.*?)CLOSE", s, re.DOTALL)
std::vector<std::string_view> find_all_between(std::string_view s, std::string_view open, std::string_view close) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t a = s.find(open, pos);
    if (a == std::string_view::npos) break;
    size_t b = s.find(close, a + open.size());
    if (b == std::string_view::npos) break;
    out.push_back(s.substr(a + open.size(), b - a - open.size()));
    pos = b + close.size();
  }
  return out;
}

// _extract_name: strip, then remove one pair of matching quotes.
std::string extract_name(std::string_view raw) {
  std::string s = py_strip(raw);
  if (s.size() >= 2 && ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\'')))
    return s.substr(1, s.size() - 2);
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const nlohmann::ordered_json* find_properties(const nlohmann::ordered_json& tools, const std::string& name) {
  if (!tools.is_array()) return nullptr;
  for (auto& t : tools) {
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
    const auto& f = t["function"];
    if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>() != name) continue;
    if (f.contains("parameters") && f["parameters"].is_object() && f["parameters"].contains("properties"))
      return &f["parameters"]["properties"];
    return nullptr;  // the first tool with that name decides
  }
  return nullptr;
}

std::vector<std::string> param_types(const std::string& param, const nlohmann::ordered_json* props) {
  if (!props || !props->is_object() || !props->contains(param)) return {"string"};
  const auto& schema = (*props)[param];
  if (!schema.is_object()) return {"string"};
  return schema_types(schema);
}

// One <invoke ...</invoke> body -> a call (nullopt when the name is missing).
std::optional<ToolCall> parse_invoke(std::string_view inv, const nlohmann::ordered_json& tools,
                                     std::vector<std::pair<std::string, std::string>>* params_out) {
  size_t gt = inv.find('>');
  if (gt == 0 || inv.empty()) return std::nullopt;  // ^([^>]+) needs one character
  std::string name = extract_name(inv.substr(0, gt == std::string_view::npos ? inv.size() : gt));
  const nlohmann::ordered_json* props = find_properties(tools, name);
  std::vector<std::pair<std::string, std::string>> params;  // name -> JSON value, dict order
  for (std::string_view p : find_all_between(inv, kParam, kParamEnd)) {
    size_t q = p.find('>');
    if (q == 0 || q == std::string_view::npos) continue;  // ^([^>]+)>(.*)
    std::string pname = extract_name(p.substr(0, q));
    std::string value = py_strip(p.substr(q + 1));
    std::string json = convert_param_value(value, param_types(pname, props));
    bool replaced = false;
    for (auto& kv : params) if (kv.first == pname) { kv.second = json; replaced = true; break; }
    if (!replaced) params.emplace_back(pname, json);
  }
  ToolCall call;
  call.id = random_call_id();
  call.name = name;
  call.arguments = "{";
  for (size_t k = 0; k < params.size(); ++k)
    call.arguments += (k ? ", " : "") + py::dumps_string(params[k].first) + ": " + params[k].second;
  call.arguments += "}";
  if (params_out) *params_out = std::move(params);
  return call;
}

}  // namespace

std::string random_call_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

std::vector<std::string> schema_types(const nlohmann::ordered_json& schema) {
  std::vector<std::string> types;
  auto add = [&](const std::string& t) {
    for (auto& x : types) if (x == t) return;
    types.push_back(t);
  };
  if (!schema.is_object()) return {"string"};
  if (schema.contains("type")) {
    const auto& t = schema["type"];
    if (t.is_string()) add(t.get<std::string>());
    else if (t.is_array()) for (auto& x : t) if (x.is_string()) add(x.get<std::string>());
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    for (auto& v : schema["enum"]) {
      if (v.is_null()) add("null");
      else if (v.is_boolean()) add("boolean");
      else if (v.is_number_integer()) add("integer");
      else if (v.is_number_float()) add("number");
      else if (v.is_string()) add("string");
      else if (v.is_array()) add("array");
      else if (v.is_object()) add("object");
    }
  }
  for (const char* f : {"anyOf", "oneOf", "allOf"})
    if (schema.contains(f) && schema[f].is_array())
      for (auto& c : schema[f]) for (auto& t : schema_types(c)) add(t);
  if (types.empty()) return {"string"};
  return types;
}

std::string convert_param_value(const std::string& value, const std::vector<std::string>& types) {
  std::string lv = lower(value);
  if (lv == "null" || lv == "none" || lv == "nil") return "null";
  std::set<std::string> norm;
  for (auto& t : types) norm.insert(lower(t));
  static const char* priority[] = {"integer", "int", "number", "float", "boolean", "bool", "object",
                                   "array", "string", "str", "text"};
  for (const char* t : priority) {
    std::string type = t;
    if (!norm.count(type)) continue;
    if (type == "string" || type == "str" || type == "text") return py::dumps_string(value);
    if (type == "integer" || type == "int") {
      if (auto i = py::parse_int(value)) return *i;
      continue;
    }
    if (type == "number" || type == "float") {
      auto d = py::parse_float(value);
      // int(inf) raises OverflowError in vLLM (aborting the whole parse); treated as "not a
      // number" here instead. int(nan) raises ValueError: also the next type.
      if (!d || !std::isfinite(*d)) continue;
      if (*d == std::trunc(*d)) {
        char buf[400];
        std::snprintf(buf, sizeof buf, "%.0f", *d);  // exact, like Python's int(float)
        std::string s = buf;
        return s == "-0" ? "0" : s;
      }
      return py::float_repr(*d);
    }
    if (type == "boolean" || type == "bool") {
      std::string b = py_strip(lv);
      if (b == "true" || b == "1" || b == "yes" || b == "on") return "true";
      if (b == "false" || b == "0" || b == "no" || b == "off") return "false";
      continue;
    }
    if (type == "object" || type == "array") {
      if (auto j = py::loads(value)) return py::dumps(*j);
      continue;
    }
  }
  if (auto j = py::loads(value)) return py::dumps(*j);
  return py::dumps_string(value);
}

ToolParseResult parse_minimax_m2_tool_calls(std::string_view text, const nlohmann::ordered_json& tools) {
  ToolParseResult r;
  if (text.find(kStart) == std::string_view::npos) {
    r.content = std::string(text);
    return r;
  }
  for (std::string_view block : find_all_between(text, kStart, kEnd))
    for (std::string_view inv : find_all_between(block, kInvoke, kInvokeEnd))
      if (auto c = parse_invoke(inv, tools, nullptr)) r.calls.push_back(std::move(*c));
  if (r.calls.empty()) {
    r.content = std::string(text);
    return r;
  }
  r.tools_called = true;
  size_t first = text.find(kStart);
  if (first > 0) r.content = std::string(text.substr(0, first));
  return r;
}

namespace {
// Length of the longest suffix of s that is a proper prefix of tok.
size_t partial_suffix(std::string_view s, std::string_view tok) {
  for (size_t n = std::min(s.size(), tok.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tok.substr(0, n)) return n;
  return 0;
}
}  // namespace

void MinimaxM2ToolStream::scan_blocks(Delta& d) {
  std::string_view all(all_);
  while (true) {
    size_t a = all.find(kStart, scan_);
    if (a == std::string_view::npos) return;
    size_t b = all.find(kEnd, a + kStart.size());
    if (b == std::string_view::npos) return;  // wait for the block to close
    std::string_view block = all.substr(a + kStart.size(), b - a - kStart.size());
    for (std::string_view inv : find_all_between(block, kInvoke, kInvokeEnd)) {
      std::vector<std::pair<std::string, std::string>> params;
      auto call = parse_invoke(inv, tools_, &params);
      if (!call) continue;
      int idx = ncalls_++;
      d.tool_calls.push_back({idx, call->id, call->name, ""});
      // Arguments as fragments: {"k": v   , "k2": v2   }  (they concatenate to call->arguments).
      for (size_t k = 0; k < params.size(); ++k)
        d.tool_calls.push_back({idx, "", "", (k ? ", " : "{") + py::dumps_string(params[k].first) + ": " + params[k].second});
      d.tool_calls.push_back({idx, "", "", params.empty() ? "{}" : "}"});
    }
    scan_ = b + kEnd.size();
  }
}

MinimaxM2ToolStream::Delta MinimaxM2ToolStream::feed(std::string_view text) {
  Delta d;
  all_.append(text);
  if (!started_) {
    size_t a = all_.find(kStart);
    if (a == std::string::npos) {
      size_t safe = all_.size() - partial_suffix(all_, kStart);
      if (safe > content_done_) { d.content = all_.substr(content_done_, safe - content_done_); content_done_ = safe; }
      return d;
    }
    started_ = true;
    if (a > content_done_) d.content = all_.substr(content_done_, a - content_done_);
    content_done_ = a;
    scan_ = a;
  }
  scan_blocks(d);
  return d;
}

MinimaxM2ToolStream::Delta MinimaxM2ToolStream::finish() {
  Delta d;
  // Without any call everything is content (including an unterminated block); with calls, the
  // text after the first start token is dropped, as the non-streaming parser does.
  if (ncalls_ == 0 && content_done_ < all_.size()) d.content = all_.substr(content_done_);
  content_done_ = all_.size();
  return d;
}

}  // namespace mixq::text
