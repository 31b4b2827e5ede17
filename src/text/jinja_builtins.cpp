#include "text/jinja_builtins.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <ctime>
#include <optional>

#include "text/utf8.h"

namespace mixq::text::jinja {

using K = Value::Kind;

void render_fail(const std::string& msg) { throw RenderError(msg); }

Value Env::lookup(const std::string& name) const {
  for (const Env* e = this; e; e = e->parent_) {
    auto it = e->vars_.find(name);
    if (it != e->vars_.end()) return it->second;
  }
  return Value::undefined();
}

Object take_kwargs(std::vector<Value>& args) {
  if (!args.empty() && args.back().kind == K::KwArgs) {
    Object o = *args.back().obj;
    args.pop_back();
    return o;
  }
  return {};
}

std::string js_trim(const std::string& s, bool start, bool end) {
  size_t b = 0, e = s.size();
  if (start) {
    while (b < e) {
      size_t k = b;
      if (!js_space(utf8_next(s, k))) break;
      b = k;
    }
  }
  if (end) {
    while (e > b) {
      size_t p = e - 1;
      while (p > b && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
      size_t k = p;
      if (!js_space(utf8_next(s, k))) break;
      e = p;
    }
  }
  return s.substr(b, e - b);
}

namespace {
std::string icu_case(const std::string& s, bool upper) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    std::string out = s;
    for (char& c : out) c = upper ? (c >= 'a' && c <= 'z' ? c - 32 : c) : (c >= 'A' && c <= 'Z' ? c + 32 : c);
    return out;
  }
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  if (upper) u.toUpper(icu::Locale::getRoot());
  else u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}
bool ascii_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
}  // namespace

std::string js_upper(const std::string& s) { return icu_case(s, true); }
std::string js_lower(const std::string& s) { return icu_case(s, false); }

size_t js_length(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) n += utf8_next(s, i) >= 0x10000 ? 2 : 1;
  return n;
}

namespace {

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t st = i;
    utf8_next(s, i);
    out.push_back(s.substr(st, i - st));
  }
  return out;
}

std::string title_case(const std::string& s) {
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    bool prev_word = i > 0 && ascii_word(out[i - 1]) && static_cast<unsigned char>(out[i - 1]) < 0x80;
    if (ascii_word(out[i]) && !prev_word && out[i] >= 'a' && out[i] <= 'z') out[i] -= 32;
  }
  return out;
}

std::string capitalize(const std::string& s) {
  if (s.empty()) return s;
  size_t i = 0;
  char32_t c = utf8_next(s, i);
  if (c >= 0x10000) return s;  // charAt(0) is a lone surrogate in JS
  return js_upper(s.substr(0, i)) + s.substr(i);
}

std::vector<std::string> js_split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t f = s.find(sep, pos);
    if (f == std::string::npos) { out.push_back(s.substr(pos)); break; }
    out.push_back(s.substr(pos, f - pos));
    pos = f + sep.size();
  }
  return out;
}

std::string js_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (count == 0) return s;
  int64_t remaining = count < 0 ? INT64_MAX : count;
  std::string out;
  if (from.empty()) {
    // (?=) with the u flag: a match before every code point and at the end.
    auto cps = code_points(s);
    for (auto& cp : cps) {
      if (remaining > 0) { out += to; --remaining; }
      out += cp;
    }
    if (remaining > 0) out += to;
    return out;
  }
  size_t pos = 0;
  while (remaining > 0) {
    size_t f = s.find(from, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += to;
    pos = f + from.size();
    --remaining;
  }
  out.append(s, pos);
  return out;
}

Value str_array(const std::vector<std::string>& parts) {
  Array a;
  for (auto& p : parts) a.push_back(Value::str(p));
  return Value::array(std::move(a));
}

// Bound method helper.
Value method(std::function<Value(std::vector<Value>&)> f) {
  return Value::function([f](std::vector<Value>& args, Env&) { return f(args); });
}

Value string_member(const Value& obj, const std::string& name) {
  const std::string s = obj.s;
  if (name == "length") return Value::integer(static_cast<int64_t>(js_length(s)));
  if (name == "upper") return method([s](auto&) { return Value::str(js_upper(s)); });
  if (name == "lower") return method([s](auto&) { return Value::str(js_lower(s)); });
  if (name == "strip") return method([s](auto&) { return Value::str(js_trim(s, true, true)); });
  if (name == "lstrip") return method([s](auto&) { return Value::str(js_trim(s, true, false)); });
  if (name == "rstrip") return method([s](auto&) { return Value::str(js_trim(s, false, true)); });
  if (name == "title") return method([s](auto&) { return Value::str(title_case(s)); });
  if (name == "capitalize") return method([s](auto&) { return Value::str(capitalize(s)); });
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return method([s, start, name](std::vector<Value>& args) {
      if (args.empty()) render_fail(name + "() requires at least one argument");
      auto test = [&](const std::string& p) {
        return start ? s.compare(0, p.size(), p) == 0 && s.size() >= p.size()
                     : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
      };
      const Value& p = args[0];
      if (p.is_string()) return Value::boolean(test(p.s));
      if (p.is_array()) {
        for (auto& item : *p.arr) {
          if (!item.is_string()) render_fail(name + "() tuple elements must be strings");
          if (test(item.s)) return Value::boolean(true);
        }
        return Value::boolean(false);
      }
      render_fail(name + "() argument must be a string or tuple of strings");
    });
  }
  if (name == "split") {
    return method([s](std::vector<Value>& args) {
      Value sep = args.size() > 0 ? args[0] : Value::null();
      if (!sep.is_string() && !sep.is_null()) render_fail("sep argument must be a string or null");
      Value maxs = args.size() > 1 ? args[1] : Value::integer(-1);
      if (maxs.kind != K::Int) render_fail("maxsplit argument must be a number");
      std::vector<std::string> parts;
      if (sep.is_null()) {
        std::string t = js_trim(s, true, false);
        size_t i = 0;
        while (i < t.size()) {
          size_t k = i;
          if (js_space(utf8_next(t, k))) { i = k; continue; }
          size_t st = i;
          while (i < t.size()) {
            size_t q = i;
            if (js_space(utf8_next(t, q))) break;
            i = q;
          }
          if (maxs.i != -1 && static_cast<int64_t>(parts.size()) >= maxs.i) { parts.push_back(t.substr(st)); break; }
          parts.push_back(t.substr(st, i - st));
        }
      } else {
        if (sep.s.empty()) render_fail("empty separator");
        parts = js_split(s, sep.s);
        if (maxs.i != -1 && static_cast<int64_t>(parts.size()) > maxs.i) {
          std::string rest;
          for (size_t k = maxs.i; k < parts.size(); ++k) rest += (k > static_cast<size_t>(maxs.i) ? sep.s : "") + parts[k];
          parts.resize(maxs.i);
          parts.push_back(rest);
        }
      }
      return str_array(parts);
    });
  }
  if (name == "replace") {
    return method([s](std::vector<Value>& args) {
      if (args.size() < 2) render_fail("replace() requires at least two arguments");
      if (!args[0].is_string() || !args[1].is_string()) render_fail("replace() arguments must be strings");
      Value count = Value::null();
      if (args.size() > 2) {
        if (args[2].kind == K::KwArgs) {
          const Value* c = args[2].obj->find("count");
          count = c ? *c : Value::null();
        } else {
          count = args[2];
        }
      }
      if (count.kind != K::Int && !count.is_null()) render_fail("replace() count argument must be a number or null");
      return Value::str(js_replace(s, args[0].s, args[1].s, count.is_null() ? -1 : count.i));
    });
  }
  return Value::undefined();
}

Value items_of(const Value& o) {
  Array a;
  for (auto& [k, v] : o.obj->items) a.push_back(Value::array({Value::str(k), v}));
  return Value::array(std::move(a));
}

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is_null() && b.is_null()) return 0;
  if (a.is_null() || b.is_null()) render_fail(std::string("Cannot compare ") + a.type_name() + " with " + b.type_name());
  if (a.is_undefined() && b.is_undefined()) return 0;
  if (a.is_undefined() || b.is_undefined()) render_fail(std::string("Cannot compare ") + a.type_name() + " with " + b.type_name());
  auto numeric = [](const Value& v) { return v.is_number() || v.kind == K::Bool; };
  if (numeric(a) && numeric(b)) return a.num() < b.num() ? -1 : a.num() > b.num() ? 1 : 0;
  if (a.kind != b.kind) render_fail(std::string("Cannot compare different types: ") + a.type_name() + " and " + b.type_name());
  if (a.is_string()) {
    std::string x = case_sensitive ? a.s : js_lower(a.s), y = case_sensitive ? b.s : js_lower(b.s);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  render_fail(std::string("Cannot compare type: ") + a.type_name());
}

Value object_member(const Value& obj, const std::string& name) {
  auto o = obj.obj;
  if (name == "items") return method([obj](auto&) { return items_of(obj); });
  if (name == "keys")
    return method([o](auto&) {
      Array a;
      for (auto& kv : o->items) a.push_back(Value::str(kv.first));
      return Value::array(std::move(a));
    });
  if (name == "values")
    return method([o](auto&) {
      Array a;
      for (auto& kv : o->items) a.push_back(kv.second);
      return Value::array(std::move(a));
    });
  if (name == "get")
    return method([o](std::vector<Value>& args) {
      if (args.empty() || !args[0].is_string())
        render_fail(std::string("Object key must be a string: got ") + (args.empty() ? "UndefinedValue" : args[0].type_name()));
      const Value* v = o->find(args[0].s);
      if (v) return *v;
      return args.size() > 1 ? args[1] : Value::null();
    });
  if (name == "dictsort")
    return method([obj](std::vector<Value>& args) {
      Object kw = take_kwargs(args);
      auto arg = [&](size_t i, const char* k, Value d) {
        if (args.size() > i) return args[i];
        if (const Value* v = kw.find(k)) return *v;
        return d;
      };
      Value cs = arg(0, "case_sensitive", Value::boolean(false));
      Value by = arg(1, "by", Value::str("key"));
      Value rev = arg(2, "reverse", Value::boolean(false));
      if (cs.kind != K::Bool) render_fail("case_sensitive must be a boolean");
      if (!by.is_string() || (by.s != "key" && by.s != "value")) render_fail("by must be either 'key' or 'value'");
      if (rev.kind != K::Bool) render_fail("reverse must be a boolean");
      Array items = *items_of(obj).arr;
      size_t idx = by.s == "key" ? 0 : 1;
      std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        int r = compare_values((*a.arr)[idx], (*b.arr)[idx], cs.b);
        return rev.b ? r > 0 : r < 0;
      });
      return Value::array(std::move(items));
    });
  return Value::undefined();
}

Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t pos = 0;
  while (true) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (v.is_attr_container()) {
      const Value* e = v.obj->find(part);
      v = e ? *e : Value::undefined();
    } else if (v.is_array()) {
      char* end = nullptr;
      long idx = std::strtol(part.c_str(), &end, 10);
      if (end == part.c_str() || idx < 0 || idx >= static_cast<long>(v.arr->size())) return Value::undefined();
      v = (*v.arr)[idx];
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return v;
}

// parseInt(s, 10) / parseFloat(s); nullopt for NaN.
std::optional<double> js_parse_number(const std::string& s, bool integer) {
  std::string t = js_trim(s, true, false);
  size_t i = 0;
  std::string num;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) num += t[i++];
  size_t digits_start = num.size();
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) num += t[i++];
  if (!integer) {
    if (i < t.size() && t[i] == '.') {
      num += t[i++];
      while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) num += t[i++];
    }
    if (num.size() > digits_start && num != "." && i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      size_t save = i;
      std::string e = "e";
      ++i;
      if (i < t.size() && (t[i] == '+' || t[i] == '-')) e += t[i++];
      size_t ds = i;
      while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) e += t[i++];
      if (i > ds) num += e; else i = save;
    }
    if (num.size() == digits_start && t.compare(i, 8, "Infinity") == 0) return num == "-" ? -INFINITY : INFINITY;
  }
  bool has_digit = std::any_of(num.begin(), num.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!has_digit) return std::nullopt;
  return std::strtod(num.c_str(), nullptr);
}

std::string strftime_now(const std::string& fmt) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  static const char* months[] = {"January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"};
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) { out += fmt[i]; continue; }
    char c = fmt[++i];
    char buf[16];
    switch (c) {
      case 'Y': out += std::to_string(tm.tm_year + 1900); break;
      case 'm': std::snprintf(buf, sizeof buf, "%02d", tm.tm_mon + 1); out += buf; break;
      case 'd': std::snprintf(buf, sizeof buf, "%02d", tm.tm_mday); out += buf; break;
      case 'H': std::snprintf(buf, sizeof buf, "%02d", tm.tm_hour); out += buf; break;
      case 'M': std::snprintf(buf, sizeof buf, "%02d", tm.tm_min); out += buf; break;
      case 'b': out += std::string(months[tm.tm_mon]).substr(0, 3); break;
      case 'B': out += months[tm.tm_mon]; break;
      case '%': out += '%'; break;
      default: out += '%'; out += c;
    }
  }
  return out;
}

}  // namespace

Value builtin_member(const Value& obj, const std::string& name) {
  if (obj.is_string()) return string_member(obj, name);
  if (obj.is_object()) return object_member(obj, name);
  if (obj.is_array() && name == "length") return Value::integer(static_cast<int64_t>(obj.arr->size()));
  return Value::undefined();
}

void setup_globals(Env& env) {
  env.set("false", Value::boolean(false));
  env.set("true", Value::boolean(true));
  env.set("none", Value::null());
  env.set("False", Value::boolean(false));
  env.set("True", Value::boolean(true));
  env.set("None", Value::null());
  env.set("raise_exception", Value::function([](std::vector<Value>& args, Env&) -> Value {
    render_fail(args.empty() ? std::string("undefined") : args[0].to_output());
  }));
  env.set("range", Value::function([](std::vector<Value>& args, Env&) {
    take_kwargs(args);
    if (args.empty()) render_fail("range expected at least 1 argument");
    int64_t start = 0, stop, step = 1;
    if (args.size() == 1) stop = static_cast<int64_t>(args[0].num());
    else { start = static_cast<int64_t>(args[0].num()); stop = static_cast<int64_t>(args[1].num()); }
    if (args.size() > 2) step = static_cast<int64_t>(args[2].num());
    if (step == 0) render_fail("range() step must not be zero");
    Array a;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) a.push_back(Value::integer(i));
    return Value::array(std::move(a));
  }));
  env.set("strftime_now", Value::function([](std::vector<Value>& args, Env&) {
    return Value::str(strftime_now(args.empty() ? "" : args[0].to_output()));
  }));
  env.set("namespace", Value::function([](std::vector<Value>& args, Env&) {
    Object kw = take_kwargs(args);
    if (args.size() > 1) render_fail("namespace expected at most 1 argument, got " + std::to_string(args.size()));
    Object entries;
    if (args.size() == 1) {
      const Value& src = args[0];
      if (src.is_object()) {
        for (auto& [k, v] : src.obj->items) entries.set(k, v);
      } else if (src.is_array()) {
        for (auto& pair : *src.arr) {
          if (!pair.is_array() || pair.arr->size() != 2 || !(*pair.arr)[0].is_string())
            render_fail("namespace expected an object or an iterable of [key, value] pairs");
          entries.set((*pair.arr)[0].s, (*pair.arr)[1]);
        }
      } else {
        render_fail(std::string("'") + src.type_name() + "' object is not iterable");
      }
    }
    for (auto& [k, v] : kw.items) entries.set(k, v);
    return Value::object(std::move(entries), K::Namespace);
  }));
}

bool run_test(const std::string& name, const Value& v, const Value* arg) {
  if (name == "boolean") return v.kind == K::Bool;
  if (name == "callable") return v.kind == K::Func;
  if (name == "odd" || name == "even") {
    if (v.kind != K::Int) render_fail("cannot " + name + " on " + v.type_name());
    return (v.i % 2 != 0) == (name == "odd");
  }
  if (name == "false") return v.kind == K::Bool && !v.b;
  if (name == "true") return v.kind == K::Bool && v.b;
  if (name == "none") return v.is_null();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == K::Int;
  if (name == "iterable") return v.kind == K::Array || v.is_string();
  if (name == "mapping") return v.is_object();
  if (name == "sequence") return v.is_array() || v.is_object() || v.is_string();
  if (name == "lower") return v.is_string() && v.s == js_lower(v.s);
  if (name == "upper") return v.is_string() && v.s == js_upper(v.s);
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "equalto" || name == "eq") {
    if (!arg) render_fail("test '" + name + "' needs a value to compare with");
    return strict_equal(v, *arg);
  }
  render_fail("Unknown test: " + name);
}

Value filter_plain(const Value& x, const std::string& name, Env& env) {
  if (name == "safe") return x;
  if (name == "tojson") return Value::str(to_json(x));
  if (x.is_array()) {
    const Array& a = *x.arr;
    if (name == "list") return x;
    if (name == "first") return a.empty() ? Value::undefined() : a.front();
    if (name == "last") return a.empty() ? Value::undefined() : a.back();
    if (name == "length") return Value::integer(static_cast<int64_t>(a.size()));
    if (name == "reverse") { Array r(a.rbegin(), a.rend()); return Value::array(std::move(r)); }
    if (name == "sort") {
      Array r = a;
      std::stable_sort(r.begin(), r.end(), [](const Value& p, const Value& q) { return compare_values(p, q, false) < 0; });
      return Value::array(std::move(r));
    }
    if (name == "join") {
      std::string out;
      for (auto& e : a) out += e.to_concat();
      return Value::str(out);
    }
    if (name == "string") return Value::str(to_json(x, {}, 0, false));
    if (name == "unique") {
      Array r;
      for (auto& e : a) {
        bool seen = false;
        for (auto& q : r) if (strict_equal(q, e)) { seen = true; break; }
        if (!seen) r.push_back(e);
      }
      return Value::array(std::move(r));
    }
    render_fail("Unknown ArrayValue filter: " + name);
  }
  if (x.is_string()) {
    if (name == "length") return Value::integer(static_cast<int64_t>(js_length(x.s)));
    if (name == "upper") return Value::str(js_upper(x.s));
    if (name == "lower") return Value::str(js_lower(x.s));
    if (name == "title") return Value::str(title_case(x.s));
    if (name == "capitalize") return Value::str(capitalize(x.s));
    if (name == "trim") return Value::str(js_trim(x.s, true, true));
    if (name == "indent") {
      auto lines = js_split(x.s, "\n");
      std::string out;
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i) out += "\n";
        out += (i == 0 || lines[i].empty()) ? lines[i] : "    " + lines[i];
      }
      return Value::str(out);
    }
    if (name == "join" || name == "string") return x;
    if (name == "int") { auto d = js_parse_number(x.s, true); return Value::integer(d ? static_cast<int64_t>(*d) : 0); }
    if (name == "float") { auto d = js_parse_number(x.s, false); return Value::floating(d ? *d : 0.0); }
    render_fail("Unknown StringValue filter: " + name);
  }
  if (x.is_number()) {
    if (name == "abs") return x.kind == K::Int ? Value::integer(std::llabs(x.i)) : Value::floating(std::fabs(x.f));
    if (name == "int") return Value::integer(static_cast<int64_t>(std::floor(x.num())));
    if (name == "float") return Value::floating(x.num());
    if (name == "string") return Value::str(x.to_output());
    render_fail("Unknown NumericValue filter: " + name);
  }
  if (x.is_object()) {
    if (name == "items") return items_of(x);
    if (name == "length") return Value::integer(static_cast<int64_t>(x.obj->items.size()));
    Value b = object_member(x, name);
    if (b.kind == K::Func) { std::vector<Value> none; return (*b.fn)(none, env); }
    if (!b.is_undefined()) return b;
    render_fail("Unknown ObjectValue filter: " + name);
  }
  if (x.kind == K::Bool) {
    if (name == "bool") return x;
    if (name == "int") return Value::integer(x.b ? 1 : 0);
    if (name == "float") return Value::floating(x.b ? 1.0 : 0.0);
    if (name == "string") return Value::str(x.b ? "true" : "false");
    render_fail("Unknown BooleanValue filter: " + name);
  }
  render_fail("Cannot apply filter \"" + name + "\" to type: " + x.type_name());
}

Value filter_call(const Value& x, const std::string& name, std::vector<Value>& args, Object& kw, Env& env) {
  auto arg = [&](size_t i, const char* k, Value d) {
    if (args.size() > i) return args[i];
    if (const Value* v = kw.find(k)) return *v;
    return d;
  };
  if (name == "tojson") {
    JsonOptions o;
    Value ind = arg(99, "indent", Value::null());
    if (ind.kind != K::Int && !ind.is_null()) render_fail("If set, indent must be a number");
    o.indent = ind.is_null() ? -1 : static_cast<int>(ind.i);
    Value ea = arg(99, "ensure_ascii", Value::boolean(false));
    if (ea.kind != K::Bool) render_fail("If set, ensure_ascii must be a boolean");
    o.ensure_ascii = ea.b;
    Value sk = arg(99, "sort_keys", Value::boolean(false));
    if (sk.kind != K::Bool) render_fail("If set, sort_keys must be a boolean");
    o.sort_keys = sk.b;
    Value sep = arg(99, "separators", Value::null());
    if (sep.is_array()) {
      if (sep.arr->size() != 2 || !(*sep.arr)[0].is_string() || !(*sep.arr)[1].is_string())
        render_fail("separators must be a tuple of two strings");
      o.has_separators = true;
      o.item_sep = (*sep.arr)[0].s;
      o.key_sep = (*sep.arr)[1].s;
    } else if (!sep.is_null()) {
      render_fail("If set, separators must be a tuple of two strings");
    }
    return Value::str(to_json(x, o));
  }
  if (name == "join") {
    std::vector<std::string> parts;
    if (x.is_string()) parts = code_points(x.s);
    else if (x.is_array()) for (auto& e : *x.arr) parts.push_back(e.to_concat());
    else render_fail("Cannot apply filter \"join\" to type: " + std::string(x.type_name()));
    Value sep = arg(0, "separator", Value::str(""));
    if (!sep.is_string()) render_fail("separator must be a string");
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep.s : "") + parts[i];
    return Value::str(out);
  }
  if (name == "int" || name == "float") {
    bool is_int = name == "int";
    Value def = arg(0, "default", is_int ? Value::integer(0) : Value::floating(0));
    if (x.is_string()) {
      auto d = js_parse_number(x.s, is_int);
      if (!d) return def;
      return is_int ? Value::integer(static_cast<int64_t>(*d)) : Value::floating(*d);
    }
    if (x.is_number()) return x;
    if (x.kind == K::Bool) return is_int ? Value::integer(x.b) : Value::floating(x.b ? 1 : 0);
    render_fail("Cannot apply filter \"" + name + "\" to type: " + x.type_name());
  }
  if (name == "default") {
    Value def = args.size() > 0 ? args[0] : Value::str("");
    Value boolean = arg(1, "boolean", Value::boolean(false));
    if (boolean.kind != K::Bool) render_fail("`default` filter flag must be a boolean");
    if (x.is_undefined() || (boolean.b && !x.truthy())) return def;
    return x;
  }
  if (x.is_array()) {
    const Array& a = *x.arr;
    if (name == "sort") {
      Value rev = arg(0, "reverse", Value::boolean(false));
      Value cs = arg(1, "case_sensitive", Value::boolean(false));
      Value attr = arg(2, "attribute", Value::null());
      if (rev.kind != K::Bool) render_fail("reverse must be a boolean");
      if (cs.kind != K::Bool) render_fail("case_sensitive must be a boolean");
      auto key = [&](const Value& v) {
        if (attr.is_null()) return v;
        return attribute_path(v, attr.kind == K::Int ? std::to_string(attr.i) : attr.s);
      };
      Array r = a;
      std::stable_sort(r.begin(), r.end(), [&](const Value& p, const Value& q) {
        int c = compare_values(key(p), key(q), cs.b);
        return rev.b ? c > 0 : c < 0;
      });
      return Value::array(std::move(r));
    }
    if (name == "selectattr" || name == "rejectattr") {
      bool select = name == "selectattr";
      for (auto& e : a) if (!e.is_attr_container()) render_fail("`" + name + "` can only be applied to array of objects");
      if (args.empty() || !args[0].is_string()) render_fail("arguments of `" + name + "` must be strings");
      Array r;
      for (auto& e : a) {
        const Value* v = e.obj->find(args[0].s);
        bool res = false;
        if (v) res = args.size() > 1 ? run_test(args[1].s, *v, args.size() > 2 ? &args[2] : nullptr) : v->truthy();
        if (res == select) r.push_back(e);
      }
      return Value::array(std::move(r));
    }
    if (name == "map") {
      const Value* attr = kw.find("attribute");
      if (!attr) render_fail("`map` expressions without `attribute` set are not currently supported.");
      if (!attr->is_string()) render_fail("attribute must be a string");
      const Value* def = kw.find("default");
      Array r;
      for (auto& e : a) {
        if (!e.is_attr_container()) render_fail("items in map must be an object");
        Value v = attribute_path(e, attr->s);
        r.push_back(v.is_undefined() ? (def ? *def : Value::undefined()) : v);
      }
      return Value::array(std::move(r));
    }
    render_fail("Unknown ArrayValue filter: " + name);
  }
  if (x.is_string()) {
    if (name == "indent") {
      Value width = arg(0, "width", Value::integer(4));
      if (width.kind != K::Int) render_fail("width must be a number");
      Value first = arg(1, "first", Value::boolean(false));
      Value blank = arg(2, "blank", Value::boolean(false));
      auto lines = js_split(x.s, "\n");
      std::string ind(static_cast<size_t>(std::max<int64_t>(0, width.i)), ' ');
      std::string out;
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i) out += "\n";
        bool skip = (!first.truthy() && i == 0) || (!blank.truthy() && lines[i].empty());
        out += skip ? lines[i] : ind + lines[i];
      }
      return Value::str(out);
    }
    if (name == "replace") {
      Value fn = string_member(x, "replace");
      std::vector<Value> all = args;
      all.push_back(Value::object(kw, K::KwArgs));
      return (*fn.fn)(all, env);
    }
    render_fail("Unknown StringValue filter: " + name);
  }
  if (x.is_object()) {
    Value b = object_member(x, name);
    if (b.kind == K::Func) {
      std::vector<Value> all = args;
      if (!kw.items.empty()) all.push_back(Value::object(kw, K::KwArgs));
      return (*b.fn)(all, env);
    }
    render_fail("Unknown ObjectValue filter: " + name);
  }
  render_fail("Cannot apply filter \"" + name + "\" to type: " + x.type_name());
}

}  // namespace mixq::text::jinja
