// Runtime values of the Jinja interpreter. The semantics follow @huggingface/jinja (the reference
// the chat renders are checked against, and what transformers.js uses): JS-flavoured truthiness,
// printing (true/false, "3.0" for integral floats), JSON with Python's default separators.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mixq::text::jinja {

struct Value;
class Env;
using Array = std::vector<Value>;

// Insertion-ordered string-keyed map (JS Map semantics: re-setting a key keeps its place).
struct Object {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& k) const;
  Value* find(const std::string& k);
  void set(const std::string& k, Value v);
  bool erase(const std::string& k);
};

using Function = std::function<Value(std::vector<Value>& args, Env& env)>;

struct Value {
  enum class Kind { Undefined, Null, Bool, Int, Float, String, Array, Tuple, Object, KwArgs, Namespace, Func };
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::shared_ptr<Array> arr;      // Array, Tuple
  std::shared_ptr<Object> obj;     // Object, KwArgs, Namespace
  std::shared_ptr<Function> fn;    // Func

  static Value undefined() { return {}; }
  static Value null() { Value v; v.kind = Kind::Null; return v; }
  static Value boolean(bool x) { Value v; v.kind = Kind::Bool; v.b = x; return v; }
  static Value integer(int64_t x) { Value v; v.kind = Kind::Int; v.i = x; return v; }
  static Value floating(double x) { Value v; v.kind = Kind::Float; v.f = x; return v; }
  static Value str(std::string x) { Value v; v.kind = Kind::String; v.s = std::move(x); return v; }
  static Value array(Array a = {}, bool tuple = false);
  static Value object(Object o = {}, Kind k = Kind::Object);
  static Value function(Function f);
  static Value from_json(const nlohmann::ordered_json& j);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_null() const { return kind == Kind::Null; }
  bool is_string() const { return kind == Kind::String; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
  bool is_array() const { return kind == Kind::Array || kind == Kind::Tuple; }
  bool is_object() const { return kind == Kind::Object || kind == Kind::KwArgs; }  // ObjectValue
  bool is_attr_container() const { return is_object() || kind == Kind::Namespace; }
  double num() const { return kind == Kind::Float ? f : kind == Kind::Bool ? (b ? 1 : 0) : static_cast<double>(i); }

  bool truthy() const;
  // What `{{ v }}` prints (RuntimeValue.toString).
  std::string to_output() const;
  // What `~` / string `+` use (JS String(value.value)).
  std::string to_concat() const;
  const char* type_name() const;
};

struct JsonOptions {
  int indent = -1;  // < 0: none (also 0, as JS treats 0 as falsy)
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool has_separators = false;
  std::string item_sep, key_sep;
};
// The `tojson` filter; `undefined_as_null` false gives the "undefined" spelling used when
// printing containers.
std::string to_json(const Value& v, const JsonOptions& o = {}, int depth = 0, bool undefined_as_null = true);

// JS Number.prototype.toString for a double (shortest round trip, JS exponent rules).
std::string js_number(double d);
// JS String.prototype.trim / trimStart / trimEnd whitespace.
bool js_space(char32_t c);
// JS `a == b` on the wrapped primitive values.
bool loose_equal(const Value& a, const Value& b);
// JS `a === b` on the wrapped primitive values (array membership).
bool strict_equal(const Value& a, const Value& b);

}  // namespace mixq::text::jinja
