// Built-in filters, tests, methods and globals of the Jinja interpreter (@huggingface/jinja's set
// and behaviour: e.g. str.strip() ignores its argument there, and so it does here).
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "text/jinja_value.h"

namespace mixq::text::jinja {

// Variable scope. Lookups walk to the parent; assignment writes the current scope.
class Env {
 public:
  explicit Env(Env* parent = nullptr) : parent_(parent) {}
  Value lookup(const std::string& name) const;
  void set(const std::string& name, Value v) { vars_[name] = std::move(v); }
  bool has_local(const std::string& name) const { return vars_.count(name) != 0; }

 private:
  Env* parent_;
  std::unordered_map<std::string, Value> vars_;
};

// Errors raised while rendering (the interpreter adds the position).
class RenderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] void render_fail(const std::string& msg);

void setup_globals(Env& env);

// `obj.name` for names that are not keys: string methods, dict methods, `length`.
Value builtin_member(const Value& obj, const std::string& name);

// `x | name` without arguments.
Value filter_plain(const Value& operand, const std::string& name, Env& env);
// `x | name(args)`; kwargs are the keyword arguments in call order.
Value filter_call(const Value& operand, const std::string& name, std::vector<Value>& args, Object& kwargs,
                  Env& env);

// `arg` is the test's argument where one is given (selectattr("k", "equalto", v)).
bool run_test(const std::string& name, const Value& operand, const Value* arg = nullptr);

// Splits off trailing keyword arguments passed to a function as a KwArgs value.
Object take_kwargs(std::vector<Value>& args);

// JS string helpers on UTF-8.
std::string js_trim(const std::string& s, bool start, bool end);
std::string js_upper(const std::string& s);
std::string js_lower(const std::string& s);
size_t js_length(const std::string& s);  // UTF-16 code units

}  // namespace mixq::text::jinja
