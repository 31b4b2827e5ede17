#include "text/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "text/utf8.h"

namespace mixq::text::jinja {

const Value* Object::find(const std::string& k) const {
  for (auto& [key, v] : items) if (key == k) return &v;
  return nullptr;
}
Value* Object::find(const std::string& k) {
  for (auto& [key, v] : items) if (key == k) return &v;
  return nullptr;
}
void Object::set(const std::string& k, Value v) {
  if (Value* e = find(k)) *e = std::move(v);
  else items.emplace_back(k, std::move(v));
}
bool Object::erase(const std::string& k) {
  for (auto it = items.begin(); it != items.end(); ++it)
    if (it->first == k) { items.erase(it); return true; }
  return false;
}

Value Value::array(Array a, bool tuple) {
  Value v;
  v.kind = tuple ? Kind::Tuple : Kind::Array;
  v.arr = std::make_shared<Array>(std::move(a));
  return v;
}
Value Value::object(Object o, Kind k) {
  Value v;
  v.kind = k;
  v.obj = std::make_shared<Object>(std::move(o));
  return v;
}
Value Value::function(Function f) {
  Value v;
  v.kind = Kind::Func;
  v.fn = std::make_shared<Function>(std::move(f));
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return null();
    case nlohmann::ordered_json::value_t::boolean: return boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return integer(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float: {
      // JSON.parse gives JS numbers: an integral float is an IntegerValue there.
      double d = j.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15)
        return integer(static_cast<int64_t>(d));
      return floating(d);
    }
    case nlohmann::ordered_json::value_t::string: return str(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Array a;
      a.reserve(j.size());
      for (auto& e : j) a.push_back(from_json(e));
      return array(std::move(a));
    }
    case nlohmann::ordered_json::value_t::object: {
      Object o;
      for (auto it = j.begin(); it != j.end(); ++it) o.items.emplace_back(it.key(), from_json(it.value()));
      return object(std::move(o));
    }
    default: return undefined();
  }
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::Undefined: case Kind::Null: return false;
    case Kind::Bool: return b;
    case Kind::Int: return i != 0;
    case Kind::Float: return f != 0 && !std::isnan(f);
    case Kind::String: return !s.empty();
    case Kind::Array: case Kind::Tuple: return !arr->empty();
    case Kind::Object: case Kind::KwArgs: return !obj->items.empty();
    case Kind::Namespace: case Kind::Func: return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind) {
    case Kind::Undefined: return "UndefinedValue";
    case Kind::Null: return "NullValue";
    case Kind::Bool: return "BooleanValue";
    case Kind::Int: return "IntegerValue";
    case Kind::Float: return "FloatValue";
    case Kind::String: return "StringValue";
    case Kind::Array: return "ArrayValue";
    case Kind::Tuple: return "TupleValue";
    case Kind::Object: return "ObjectValue";
    case Kind::KwArgs: return "KeywordArgumentsValue";
    case Kind::Namespace: return "NamespaceValue";
    case Kind::Func: return "FunctionValue";
  }
  return "?";
}

std::string js_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  // Shortest round-trip digits and decimal exponent.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mant) if (c != '.') digits += c;
  int k = static_cast<int>(digits.size());
  int n = exp + 1;  // position of the decimal point relative to the digits
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(n - k, '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, n) + "." + digits.substr(n);
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(-n, '0') + digits;
  } else {
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += "e";
    out += (n - 1 >= 0 ? "+" : "-");
    out += std::to_string(std::abs(n - 1));
  }
  return neg ? "-" + out : out;
}

bool js_space(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

namespace {

std::string float_output(double f) {
  if (f == 0 && std::signbit(f)) return "-0.0";
  if (std::isfinite(f) && std::fmod(f, 1.0) == 0) {
    // Number.prototype.toFixed(1): plain digits below 1e21.
    if (std::fabs(f) < 1e21) {
      char buf[400];
      std::snprintf(buf, sizeof buf, "%.1f", f);
      return buf;
    }
    return js_number(f);
  }
  return js_number(f);
}

void json_string(std::string& out, const std::string& s, bool ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || (ascii && c == 0x7F)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    size_t st = i;
    char32_t cp = utf8_next(s, i);
    if (!ascii) { out.append(s, st, i - st); continue; }
    char buf[16];
    if (cp >= 0x10000) {  // JS escapes each UTF-16 unit
      char32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (unsigned)(v >> 10), 0xDC00 + (unsigned)(v & 0x3FF));
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04x", (unsigned)cp);
    }
    out += buf;
  }
  out += '"';
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& o, int depth, bool undef_null) {
  using K = Value::Kind;
  std::string item_sep = ", ", key_sep = ": ";
  bool indent = o.indent > 0;
  if (o.has_separators) { item_sep = o.item_sep; key_sep = o.key_sep; }
  else if (indent) item_sep = ",";
  switch (v.kind) {
    case K::Null: return "null";
    case K::Undefined: return undef_null ? "null" : "undefined";
    case K::Int: return std::to_string(v.i);
    case K::Float: return std::isfinite(v.f) ? js_number(v.f) : "null";
    case K::Bool: return v.b ? "true" : "false";
    case K::String: { std::string out; json_string(out, v.s, o.ensure_ascii); return out; }
    case K::Array: case K::Tuple: case K::Object: case K::KwArgs: case K::Namespace: {
      std::string ind = indent ? std::string(o.indent, ' ') : "";
      std::string base = "\n";
      for (int d = 0; d < depth; ++d) base += ind;
      std::string child = base + ind;
      std::vector<std::string> core;
      if (v.is_array()) {
        for (auto& e : *v.arr) core.push_back(to_json(e, o, depth + 1, undef_null));
        std::string out = "[";
        if (indent && !core.empty()) {
          out += child;
          for (size_t k = 0; k < core.size(); ++k) out += (k ? item_sep + child : "") + core[k];
          return out + base + "]";
        }
        for (size_t k = 0; k < core.size(); ++k) out += (k ? item_sep : "") + core[k];
        return out + "]";
      }
      auto items = v.obj->items;
      if (o.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](auto& a, auto& b) { return a.first < b.first; });
      for (auto& [k, e] : items) {
        std::string ks;
        json_string(ks, k, o.ensure_ascii);
        std::string s = ks + key_sep + to_json(e, o, depth + 1, undef_null);
        core.push_back(indent ? child + s : s);
      }
      std::string out = "{";
      for (size_t k = 0; k < core.size(); ++k) out += (k ? item_sep : "") + core[k];
      return out + (indent && !core.empty() ? base : "") + "}";
    }
    case K::Func: break;
  }
  throw std::runtime_error(std::string("Cannot convert to JSON: ") + v.type_name());
}

std::string Value::to_output() const {
  switch (kind) {
    case Kind::Undefined: return "undefined";
    case Kind::Null: return "null";
    case Kind::Bool: return b ? "true" : "false";
    case Kind::Int: return std::to_string(i);
    case Kind::Float: return float_output(f);
    case Kind::String: return s;
    case Kind::Func: return "[function]";
    default: return to_json(*this, {}, 0, false);
  }
}

std::string Value::to_concat() const {
  switch (kind) {
    case Kind::Int: return std::to_string(i);
    case Kind::Float: return js_number(f);
    case Kind::Array: case Kind::Tuple: {
      std::string out;
      for (size_t k = 0; k < arr->size(); ++k) {
        if (k) out += ",";
        out += (*arr)[k].to_output();
      }
      return out;
    }
    case Kind::Object: case Kind::KwArgs: case Kind::Namespace: return "[object Map]";
    default: return to_output();
  }
}

bool strict_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) return a.num() == b.num();
  if (a.kind != b.kind) {
    // Tuple/Array and the Object family are distinct JS objects anyway.
    return false;
  }
  switch (a.kind) {
    case K::Undefined: case K::Null: return true;
    case K::Bool: return a.b == b.b;
    case K::String: return a.s == b.s;
    case K::Array: case K::Tuple: return a.arr == b.arr;
    case K::Object: case K::KwArgs: case K::Namespace: return a.obj == b.obj;
    case K::Func: return a.fn == b.fn;
    default: return false;
  }
}

bool loose_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  auto nullish = [](const Value& v) { return v.kind == K::Null || v.kind == K::Undefined; };
  if (nullish(a) || nullish(b)) return nullish(a) && nullish(b);
  bool a_prim = a.is_number() || a.kind == K::Bool || a.is_string();
  bool b_prim = b.is_number() || b.kind == K::Bool || b.is_string();
  if (a_prim && b_prim) {
    if (a.is_string() && b.is_string()) return a.s == b.s;
    auto to_num = [](const Value& v) -> double {
      if (!v.is_string()) return v.num();
      // JS ToNumber on a string: trimmed decimal, empty -> 0, otherwise NaN.
      std::string t = v.s;
      while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\t')) t.pop_back();
      size_t st = 0;
      while (st < t.size() && (t[st] == ' ' || t[st] == '\n' || t[st] == '\t')) ++st;
      t = t.substr(st);
      if (t.empty()) return 0;
      char* end = nullptr;
      double d = std::strtod(t.c_str(), &end);
      return end && *end == 0 ? d : NAN;
    };
    return to_num(a) == to_num(b);
  }
  return strict_equal(a, b);
}

}  // namespace mixq::text::jinja
