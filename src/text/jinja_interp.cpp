// Tree-walking evaluation of a parsed template, statement for statement what
// @huggingface/jinja's Interpreter does (scoping, loop object, macro calls, operators).
#include <cmath>

#include "text/jinja.h"
#include "text/jinja_ast.h"
#include "text/jinja_builtins.h"
#include "text/jinja_parser.h"
#include "text/utf8.h"

namespace mixq::text::jinja {
namespace {

using K = Node::K;
using VK = Value::Kind;

struct BreakSignal {};
struct ContinueSignal {};

class Interp {
 public:
  explicit Interp(std::string_view src) : src_(src) {}

  std::string block(const std::vector<NodeP>& body, Env& env) {
    std::string out;
    for (auto& st : body) {
      Value v = eval(st, env);
      if (!v.is_null() && !v.is_undefined()) out += v.to_output();
    }
    return out;
  }

  Value eval(const NodeP& n, Env& env) {
    if (!n) return Value::undefined();
    try {
      return eval_inner(n, env);
    } catch (const RenderError& e) {
      int l, c;
      line_col(src_, n->pos, l, c);
      throw TemplateError(e.what(), l, c);
    } catch (const std::runtime_error& e) {
      if (dynamic_cast<const TemplateError*>(&e)) throw;
      int l, c;
      line_col(src_, n->pos, l, c);
      throw TemplateError(e.what(), l, c);
    }
  }

 private:
  std::string_view src_;

  Value eval_inner(const NodeP& n, Env& env) {
    switch (n->k) {
      case K::Program: return Value::str(block(n->a, env));
      case K::Text: case K::Str: return Value::str(n->s);
      case K::Comment: return Value::null();
      case K::Set: return eval_set(n, env);
      case K::If: return Value::str(block(eval(n->x, env).truthy() ? n->a : n->b, env));
      case K::For: return eval_for(n, env);
      case K::Macro: return eval_macro(n, env);
      case K::CallStmt: return eval_call_stmt(n, env);
      case K::FilterStmt: return apply_filter(Value::str(block(n->a, env)), n->x, env);
      case K::Break: throw BreakSignal{};
      case K::Continue: throw ContinueSignal{};
      case K::Int: return Value::integer(n->i);
      case K::Float: return Value::floating(n->f);
      case K::ArrayLit: case K::TupleLit: {
        Array a;
        for (auto& e : n->a) a.push_back(eval(e, env));
        return Value::array(std::move(a), n->k == K::TupleLit);
      }
      case K::ObjectLit: {
        Object o;
        for (size_t i = 0; i < n->a.size(); ++i) {
          Value k = eval(n->a[i], env);
          if (!k.is_string()) render_fail(std::string("Object keys must be strings: got ") + k.type_name());
          o.set(k.s, eval(n->b[i], env));
        }
        return Value::object(std::move(o));
      }
      case K::Ident: return env.lookup(n->s);
      case K::Call: return eval_call(n, env);
      case K::Member: return eval_member(n, env);
      case K::Unary: return eval_unary(n, env);
      case K::Binary: return eval_binary(n, env);
      case K::Filter: return apply_filter(eval(n->x, env), n->y, env);
      case K::Test: {
        bool r = run_test(n->s, eval(n->x, env));
        return Value::boolean(n->flag ? !r : r);
      }
      case K::Select: {
        if (!eval(n->y, env).truthy()) return Value::undefined();
        return eval(n->x, env);
      }
      case K::Ternary: return eval(n->x, env).truthy() ? eval(n->y, env) : eval(n->z, env);
      default: render_fail("unexpected node in expression");
    }
  }

  void eval_args(const std::vector<NodeP>& args, Env& env, std::vector<Value>& pos, Object& kw) {
    for (auto& a : args) {
      if (a->k == K::Spread) {
        Value v = eval(a->x, env);
        if (!v.is_array()) render_fail(std::string("Cannot unpack non-iterable type: ") + v.type_name());
        for (auto& e : *v.arr) pos.push_back(e);
      } else if (a->k != K::KwArg && a->k != K::KwSpread) {
        pos.push_back(eval(a, env));
      }
    }
    auto add = [&](const std::string& k, Value v) {
      if (kw.find(k)) render_fail("Got multiple values for keyword argument '" + k + "'");
      kw.set(k, std::move(v));
    };
    for (auto& a : args) {
      if (a->k == K::KwArg) add(a->s, eval(a->x, env));
      else if (a->k == K::KwSpread) {
        Value v = eval(a->x, env);
        if (!v.is_object()) render_fail(std::string("Argument after ** must be a mapping, not ") + v.type_name());
        for (auto& [k, e] : v.obj->items) add(k, e);
      }
    }
  }

  Value eval_call(const NodeP& n, Env& env) {
    std::vector<Value> args;
    Object kw;
    eval_args(n->a, env, args, kw);
    if (!kw.items.empty()) args.push_back(Value::object(std::move(kw), VK::KwArgs));
    Value fn = eval(n->x, env);
    if (fn.kind != VK::Func) render_fail(std::string("Cannot call something that is not a function: got ") + fn.type_name());
    return (*fn.fn)(args, env);
  }

  Value apply_filter(Value operand, const NodeP& f, Env& env) {
    if (f->k == K::Ident) return filter_plain(operand, f->s, env);
    if (f->k != K::Call || f->x->k != K::Ident) render_fail("Unknown filter");
    std::vector<Value> args;
    Object kw;
    eval_args(f->a, env, args, kw);
    return filter_call(operand, f->x->s, args, kw, env);
  }

  static std::vector<Value> js_slice(const std::vector<Value>& a, const Value& st, const Value& sp, const Value& stp) {
    int64_t len = static_cast<int64_t>(a.size());
    int64_t step = stp.is_undefined() ? 1 : stp.i;
    int dir = step > 0 ? 1 : step < 0 ? -1 : 0;
    int64_t start, stop;
    if (dir >= 0) {
      start = st.is_undefined() ? 0 : st.i;
      start = start < 0 ? std::max<int64_t>(len + start, 0) : std::min(start, len);
      stop = sp.is_undefined() ? len : sp.i;
      stop = stop < 0 ? std::max<int64_t>(len + stop, 0) : std::min(stop, len);
    } else {
      start = st.is_undefined() ? len - 1 : st.i;
      start = start < 0 ? std::max<int64_t>(len + start, -1) : std::min(start, len - 1);
      stop = sp.is_undefined() ? -1 : sp.i;
      stop = stop < -1 ? std::max<int64_t>(len + stop, -1) : std::min(stop, len - 1);
    }
    std::vector<Value> out;
    if (step == 0) render_fail("slice step cannot be zero");
    for (int64_t i = start; dir * i < dir * stop; i += step) out.push_back(a[i]);
    return out;
  }

  Value eval_member(const NodeP& n, Env& env) {
    Value obj = eval(n->x, env);
    Value prop;
    if (n->flag) {
      if (n->y->k == K::Slice) {
        if (!obj.is_array() && !obj.is_string()) render_fail("Slice object must be an array or string");
        Value st = eval(n->y->x, env), sp = eval(n->y->y, env), stp = eval(n->y->z, env);
        for (auto* v : {&st, &sp, &stp})
          if (v->kind != VK::Int && !v->is_undefined()) render_fail("Slice indices must be integers or undefined");
        if (obj.is_array()) return Value::array(js_slice(*obj.arr, st, sp, stp));
        std::vector<Value> cps;
        for (size_t i = 0; i < obj.s.size();) {
          size_t b = i;
          utf8_next(obj.s, i);
          cps.push_back(Value::str(obj.s.substr(b, i - b)));
        }
        std::string out;
        for (auto& c : js_slice(cps, st, sp, stp)) out += c.s;
        return Value::str(out);
      }
      prop = eval(n->y, env);
    } else if (n->y->k == K::Int) {
      prop = Value::integer(n->y->i);
    } else {
      prop = Value::str(n->y->s);
    }
    if (obj.is_attr_container()) {
      if (!prop.is_string()) render_fail(std::string("Cannot access property with non-string: got ") + prop.type_name());
      if (const Value* v = obj.obj->find(prop.s)) return *v;
      return obj.is_object() ? builtin_member(obj, prop.s) : Value::undefined();
    }
    if (obj.is_array() || obj.is_string()) {
      if (prop.kind == VK::Int) {
        if (obj.is_array()) {
          int64_t len = static_cast<int64_t>(obj.arr->size()), i = prop.i < 0 ? prop.i + len : prop.i;
          return i >= 0 && i < len ? (*obj.arr)[i] : Value::undefined();
        }
        // String.prototype.at indexes UTF-16 units; index code points (identical for BMP text).
        std::vector<std::string> cps;
        for (size_t i = 0; i < obj.s.size();) {
          size_t b = i;
          utf8_next(obj.s, i);
          cps.push_back(obj.s.substr(b, i - b));
        }
        int64_t len = static_cast<int64_t>(cps.size()), i = prop.i < 0 ? prop.i + len : prop.i;
        return i >= 0 && i < len ? Value::str(cps[i]) : Value::undefined();
      }
      if (prop.is_string()) return builtin_member(obj, prop.s);
      render_fail(std::string("Cannot access property with non-string/non-number: got ") + prop.type_name());
    }
    if (!prop.is_string()) render_fail(std::string("Cannot access property with non-string: got ") + prop.type_name());
    return builtin_member(obj, prop.s);
  }

  Value eval_unary(const NodeP& n, Env& env) {
    Value v = eval(n->x, env);
    if (n->s == "not") return Value::boolean(!v.truthy());
    double sign = n->s == "-" ? -1 : 1;
    if (v.kind == VK::Float) return Value::floating(sign * v.f);
    if (v.kind == VK::Int) return Value::integer(static_cast<int64_t>(sign) * v.i);
    if (v.kind == VK::Bool) return Value::integer(static_cast<int64_t>(sign) * (v.b ? 1 : 0));
    render_fail("Unknown operator \"" + n->s + "\" for " + v.type_name());
  }

  static Value number(double r, bool is_float) {
    return is_float ? Value::floating(r) : Value::integer(static_cast<int64_t>(r));
  }

  Value eval_binary(const NodeP& n, Env& env) {
    Value l = eval(n->x, env);
    const std::string& op = n->s;
    if (op == "and") return l.truthy() ? eval(n->y, env) : l;
    if (op == "or") return l.truthy() ? l : eval(n->y, env);
    Value r = eval(n->y, env);
    if (op == "==") return Value::boolean(loose_equal(l, r));
    if (op == "!=") return Value::boolean(!loose_equal(l, r));
    if (l.is_undefined() || r.is_undefined()) {
      if (r.is_undefined() && (op == "in" || op == "not in")) return Value::boolean(op == "not in");
      render_fail("Cannot perform operation " + op + " on undefined values");
    }
    if (l.is_null() || r.is_null()) render_fail("Cannot perform operation on null values");
    if (op == "~") return Value::str(l.to_concat() + r.to_concat());
    auto numeric_like = [](const Value& v) { return v.is_number() || v.kind == VK::Bool; };
    if (op == "**" && numeric_like(l) && numeric_like(r)) {
      double a = l.num(), b = r.num();
      if (a == 0 && b < 0) render_fail("0.0 cannot be raised to a negative power");
      double res = std::pow(a, b);
      if (!std::isfinite(res)) render_fail("Exponentiation result is not a finite real number");
      return number(res, l.kind == VK::Float || r.kind == VK::Float || b < 0);
    }
    if (l.is_number() && r.is_number()) {
      double a = l.num(), b = r.num();
      bool fl = l.kind == VK::Float || r.kind == VK::Float;
      if (op == "+") return fl ? Value::floating(a + b) : Value::integer(l.i + r.i);
      if (op == "-") return fl ? Value::floating(a - b) : Value::integer(l.i - r.i);
      if (op == "*") return fl ? Value::floating(a * b) : Value::integer(l.i * r.i);
      if (op == "/") return Value::floating(a / b);
      if (op == "//") return number(std::floor(a / b), fl);
      if (op == "%") return number(std::fmod(a, b), fl);
      if (op == "<") return Value::boolean(a < b);
      if (op == ">") return Value::boolean(a > b);
      if (op == ">=") return Value::boolean(a >= b);
      if (op == "<=") return Value::boolean(a <= b);
    } else if (l.is_array() && r.is_array()) {
      if (op == "+") {
        Array a = *l.arr;
        a.insert(a.end(), r.arr->begin(), r.arr->end());
        return Value::array(std::move(a));
      }
    } else if (r.is_array()) {
      bool member = false;
      for (auto& e : *r.arr) if (strict_equal(e, l)) { member = true; break; }
      if (op == "in") return Value::boolean(member);
      if (op == "not in") return Value::boolean(!member);
    }
    if ((l.is_string() || r.is_string()) && op == "+") return Value::str(l.to_concat() + r.to_concat());
    if (l.is_string() && r.is_string()) {
      if (op == "in") return Value::boolean(r.s.find(l.s) != std::string::npos);
      if (op == "not in") return Value::boolean(r.s.find(l.s) == std::string::npos);
    }
    if (l.is_string() && r.is_object()) {
      if (op == "in") return Value::boolean(r.obj->find(l.s) != nullptr);
      if (op == "not in") return Value::boolean(r.obj->find(l.s) == nullptr);
    }
    render_fail("Unknown operator \"" + op + "\" between " + l.type_name() + " and " + r.type_name());
  }

  Value eval_set(const NodeP& n, Env& env) {
    Value rhs = n->y ? eval(n->y, env) : Value::str(block(n->a, env));
    const NodeP& t = n->x;
    if (t->k == K::Ident) {
      env.set(t->s, rhs);
    } else if (t->k == K::TupleLit) {
      if (!rhs.is_array()) render_fail(std::string("Cannot unpack non-iterable type in set: ") + rhs.type_name());
      if (rhs.arr->size() != t->a.size())
        render_fail(std::string("Too ") + (t->a.size() > rhs.arr->size() ? "few" : "many") + " items to unpack in set");
      for (size_t i = 0; i < t->a.size(); ++i) {
        if (t->a[i]->k != K::Ident) render_fail("Cannot unpack to non-identifier in set");
        env.set(t->a[i]->s, (*rhs.arr)[i]);
      }
    } else if (t->k == K::Member) {
      Value obj = eval(t->x, env);
      if (obj.kind != VK::Namespace) render_fail("cannot assign attribute on non-namespace object");
      if (t->y->k != K::Ident || t->flag) render_fail("Cannot assign to member with non-identifier property");
      obj.obj->set(t->y->s, rhs);
    } else {
      render_fail("Invalid LHS inside assignment expression");
    }
    return Value::null();
  }

  Value eval_for(const NodeP& n, Env& env) {
    Env scope(&env);
    NodeP iter_node = n->y, test;
    if (iter_node->k == K::Select) { test = iter_node->y; iter_node = iter_node->x; }
    Value it = eval(iter_node, scope);
    if (!it.is_array() && !it.is_object())
      render_fail(std::string("Expected iterable or object type in for loop: got ") + it.type_name());
    Array items_all;
    if (it.is_object()) for (auto& kv : it.obj->items) items_all.push_back(Value::str(kv.first));
    else items_all = *it.arr;

    auto bind = [&](Env& e, const Value& cur) {
      if (n->x->k == K::Ident) { e.set(n->x->s, cur); return; }
      if (cur.kind != VK::Array) render_fail(std::string("Cannot unpack non-iterable type: ") + cur.type_name());
      if (cur.arr->size() != n->x->a.size())
        render_fail(std::string("Too ") + (n->x->a.size() > cur.arr->size() ? "few" : "many") + " items to unpack");
      for (size_t j = 0; j < n->x->a.size(); ++j) {
        if (n->x->a[j]->k != K::Ident) render_fail("Cannot unpack non-identifier type");
        e.set(n->x->a[j]->s, (*cur.arr)[j]);
      }
    };
    Array items;
    for (auto& cur : items_all) {
      if (test) {
        Env ls(&scope);
        bind(ls, cur);
        if (!eval(test, ls).truthy()) continue;
      }
      items.push_back(cur);
    }
    std::string out;
    bool no_iteration = true;
    int64_t len = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < len; ++i) {
      Object loop;
      loop.set("index", Value::integer(i + 1));
      loop.set("index0", Value::integer(i));
      loop.set("revindex", Value::integer(len - i));
      loop.set("revindex0", Value::integer(len - i - 1));
      loop.set("first", Value::boolean(i == 0));
      loop.set("last", Value::boolean(i == len - 1));
      loop.set("length", Value::integer(len));
      loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined());
      loop.set("nextitem", i < len - 1 ? items[i + 1] : Value::undefined());
      scope.set("loop", Value::object(std::move(loop)));
      bind(scope, items[i]);
      try {
        out += block(n->a, scope);
      } catch (const ContinueSignal&) {
        continue;
      } catch (const BreakSignal&) {
        break;
      }
      no_iteration = false;
    }
    if (no_iteration) out += block(n->b, scope);
    return Value::str(out);
  }

  // Whether a macro body reads `kwargs` / `varargs` (then extra arguments are collected).
  static bool reads_name(const NodeP& n, const std::string& name) {
    if (!n) return false;
    if (n->k == K::Ident && n->s == name) return true;
    for (auto* c : {&n->x, &n->y, &n->z}) if (reads_name(*c, name)) return true;
    for (auto& c : n->a) if (reads_name(c, name)) return true;
    for (auto& c : n->b) if (reads_name(c, name)) return true;
    return false;
  }

  void bind_macro_args(const std::string& display, const std::vector<NodeP>& params, const std::vector<NodeP>& body,
                       std::vector<Value> args, Env& scope) {
    Object kw = take_kwargs(args);
    std::vector<std::pair<std::string, NodeP>> pending;
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string& name = params[i]->s;
      NodeP def = params[i]->k == K::KwArg ? params[i]->x : nullptr;
      bool have = i < args.size();
      Value v = have ? args[i] : Value::undefined();
      if (!have && kw.find(name)) { v = *kw.find(name); kw.erase(name); have = true; }
      if (!have && def) pending.emplace_back(name, def);
      scope.set(name, v);
    }
    bool uses_kwargs = false, uses_varargs = false;
    for (auto& b : body) { uses_kwargs |= reads_name(b, "kwargs"); uses_varargs |= reads_name(b, "varargs"); }
    if (uses_kwargs) scope.set("kwargs", Value::object(kw));
    else if (!kw.items.empty()) render_fail("macro " + display + " takes no keyword argument '" + kw.items[0].first + "'");
    if (uses_varargs) {
      Array rest;
      for (size_t i = params.size(); i < args.size(); ++i) rest.push_back(args[i]);
      scope.set("varargs", Value::array(std::move(rest)));
    } else if (args.size() > params.size()) {
      render_fail("macro " + display + " takes not more than " + std::to_string(params.size()) + " argument(s)");
    }
    for (auto& [name, def] : pending) scope.set(name, eval(def, scope));
  }

  Value eval_macro(const NodeP& n, Env& env) {
    NodeP node = n;
    env.set(n->s, Value::function([this, node](std::vector<Value>& args, Env& call_env) {
      Env scope(&call_env);  // dynamic scope: the caller's variables are visible
      bind_macro_args("'" + node->s + "'", node->a, node->b, args, scope);
      return Value::str(block(node->b, scope));
    }));
    return Value::null();
  }

  Value eval_call_stmt(const NodeP& n, Env& env) {
    NodeP node = n;
    Env* def_env = &env;
    Value caller = Value::function([this, node, def_env](std::vector<Value>& args, Env&) {
      Env scope(def_env);
      bind_macro_args("None", node->a, node->b, args, scope);
      return Value::str(block(node->b, scope));
    });
    std::vector<Value> args;
    Object kw;
    eval_args(n->x->a, env, args, kw);
    args.push_back(Value::object(std::move(kw), VK::KwArgs));
    Value fn = eval(n->x->x, env);
    if (fn.kind != VK::Func) render_fail(std::string("Cannot call something that is not a function: got ") + fn.type_name());
    Env call_env(&env);
    call_env.set("caller", caller);
    return (*fn.fn)(args, call_env);
  }
};

}  // namespace

Template::Template(std::string source) : source_(std::move(source)), program_(parse(source_)) {}
Template::~Template() = default;

std::string Template::render(const nlohmann::ordered_json& context) const {
  Env globals;
  setup_globals(globals);
  if (context.is_object())
    for (auto it = context.begin(); it != context.end(); ++it) globals.set(it.key(), Value::from_json(it.value()));
  Interp in(source_);
  try {
    return in.eval(program_, globals).s;
  } catch (const BreakSignal&) {
    throw TemplateError("'break' outside of a loop", 1, 1);
  } catch (const ContinueSignal&) {
    throw TemplateError("'continue' outside of a loop", 1, 1);
  }
}

}  // namespace mixq::text::jinja
