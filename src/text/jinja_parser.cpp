#include "text/jinja_parser.h"

#include <set>

#include "text/jinja_lexer.h"

namespace mixq::text::jinja {
namespace {

using K = Node::K;

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> toks) : src_(src), t_(std::move(toks)) {}

  NodeP program() {
    auto p = std::make_shared<Node>(K::Program, 0);
    while (cur_ < t_.size()) p->a.push_back(any());
    return p;
  }

 private:
  std::string_view src_;
  std::vector<Token> t_;
  size_t cur_ = 0;

  [[noreturn]] void err(const std::string& msg) {
    size_t pos = cur_ < t_.size() ? t_[cur_].pos : src_.size();
    int l, c;
    line_col(src_, pos, l, c);
    throw TemplateError("syntax error: " + msg, l, c);
  }
  size_t here() const { return cur_ < t_.size() ? t_[cur_].pos : src_.size(); }
  bool is(Tok t, size_t off = 0) const { return cur_ + off < t_.size() && t_[cur_ + off].type == t; }
  bool is_ident(std::string_view name, size_t off = 0) const {
    return is(Tok::Ident, off) && t_[cur_ + off].value == name;
  }
  bool is_stmt(std::initializer_list<std::string_view> names) const {
    if (!is(Tok::OpenStmt) || !is(Tok::Ident, 1)) return false;
    for (auto n : names) if (t_[cur_ + 1].value == n) return true;
    return false;
  }
  const Token& expect(Tok t, const char* what) {
    if (!is(t)) err(std::string("expected ") + what);
    return t_[cur_++];
  }
  void expect_ident(const char* name) {
    if (!is_ident(name)) err(std::string("expected '") + name + "'");
    ++cur_;
  }
  NodeP node(K k, size_t pos) { return std::make_shared<Node>(k, pos); }
  void need_more(const char* what) { if (cur_ >= t_.size()) err(std::string("unexpected end of template, expected ") + what); }

  NodeP any() {
    need_more("a statement");
    const Token& tk = t_[cur_];
    switch (tk.type) {
      case Tok::Comment: { auto n = node(K::Comment, tk.pos); n->s = tk.value; ++cur_; return n; }
      case Tok::Text: { auto n = node(K::Text, tk.pos); n->s = tk.value; ++cur_; return n; }
      case Tok::OpenStmt: return statement();
      case Tok::OpenExpr: {
        ++cur_;
        auto e = expression();
        expect(Tok::CloseExpr, "'}}'");
        return e;
      }
      default: err("unexpected token '" + tk.value + "'");
    }
  }

  std::vector<NodeP> body_until(std::initializer_list<std::string_view> ends, const char* what) {
    std::vector<NodeP> body;
    while (!is_stmt(ends)) {
      if (cur_ >= t_.size()) err(std::string("unexpected end of template, missing ") + what);
      body.push_back(any());
    }
    return body;
  }

  void close_with(const char* end) {
    expect(Tok::OpenStmt, "'{%'");
    expect_ident(end);
    expect(Tok::CloseStmt, "'%}'");
  }

  NodeP statement() {
    size_t pos = here();
    expect(Tok::OpenStmt, "'{%'");
    if (!is(Tok::Ident)) err("expected a statement name");
    std::string name = t_[cur_].value;
    ++cur_;
    if (name == "set") return set_stmt(pos);
    if (name == "if") { auto n = if_stmt(pos); close_with("endif"); return n; }
    if (name == "macro") {
      auto n = node(K::Macro, pos);
      if (!is(Tok::Ident)) err("expected a macro name");
      n->s = t_[cur_++].value;
      n->a = args(true);
      expect(Tok::CloseStmt, "'%}'");
      n->b = body_until({"endmacro"}, "{% endmacro %}");
      close_with("endmacro");
      return n;
    }
    if (name == "for") { auto n = for_stmt(pos); close_with("endfor"); return n; }
    if (name == "call") {
      auto n = node(K::CallStmt, pos);
      if (is(Tok::OpenParen)) { n->flag = true; n->a = args(true); }
      size_t cpos = here();
      auto callee = primary();
      if (callee->k != K::Ident) err("expected identifier following call statement");
      auto call = node(K::Call, cpos);
      call->x = callee;
      call->a = args(false);
      n->x = call;
      expect(Tok::CloseStmt, "'%}'");
      n->b = body_until({"endcall"}, "{% endcall %}");
      close_with("endcall");
      return n;
    }
    if (name == "break" || name == "continue") {
      expect(Tok::CloseStmt, "'%}'");
      return node(name == "break" ? K::Break : K::Continue, pos);
    }
    if (name == "filter") {
      auto n = node(K::FilterStmt, pos);
      auto f = primary();
      if (f->k == K::Ident && is(Tok::OpenParen)) f = call_expr(f);
      n->x = f;
      expect(Tok::CloseStmt, "'%}'");
      n->a = body_until({"endfilter"}, "{% endfilter %}");
      close_with("endfilter");
      return n;
    }
    cur_--;
    err("unknown statement '" + name + "'");
  }

  NodeP set_stmt(size_t pos) {
    auto n = node(K::Set, pos);
    n->x = expr_sequence(false);
    if (is(Tok::Equals)) {
      ++cur_;
      n->y = expr_sequence(false);
    } else {
      expect(Tok::CloseStmt, "'%}'");
      n->a = body_until({"endset"}, "{% endset %}");
      expect(Tok::OpenStmt, "'{%'");
      expect_ident("endset");
    }
    expect(Tok::CloseStmt, "'%}'");
    return n;
  }

  NodeP if_stmt(size_t pos) {
    auto n = node(K::If, pos);
    n->x = expression();
    expect(Tok::CloseStmt, "'%}'");
    n->a = body_until({"elif", "else", "endif"}, "{% endif %}");
    if (is_stmt({"elif"})) {
      size_t p = here();
      cur_ += 2;
      n->b.push_back(if_stmt(p));
    } else if (is_stmt({"else"})) {
      cur_ += 2;
      expect(Tok::CloseStmt, "'%}'");
      n->b = body_until({"endif"}, "{% endif %}");
    }
    return n;
  }

  NodeP for_stmt(size_t pos) {
    auto n = node(K::For, pos);
    n->x = expr_sequence(true);
    if (n->x->k != K::Ident && n->x->k != K::TupleLit) err("expected identifier/tuple for the loop variable");
    if (!is_ident("in")) err("expected 'in' after the loop variable");
    ++cur_;
    n->y = expression();
    expect(Tok::CloseStmt, "'%}'");
    n->a = body_until({"endfor", "else"}, "{% endfor %}");
    if (is_stmt({"else"})) {
      cur_ += 2;
      expect(Tok::CloseStmt, "'%}'");
      n->b = body_until({"endfor"}, "{% endfor %}");
    }
    return n;
  }

  NodeP expr_sequence(bool primary_only) {
    size_t pos = here();
    std::vector<NodeP> items{primary_only ? primary() : expression()};
    bool tuple = is(Tok::Comma);
    while (tuple) {
      ++cur_;
      items.push_back(primary_only ? primary() : expression());
      if (!is(Tok::Comma)) break;
    }
    if (!tuple) return items[0];
    auto n = node(K::TupleLit, pos);
    n->a = std::move(items);
    return n;
  }

  NodeP expression() { return if_expr(); }

  NodeP if_expr() {
    auto a = or_expr();
    if (is_ident("if")) {
      size_t pos = here();
      ++cur_;
      auto test = or_expr();
      if (is_ident("else")) {
        ++cur_;
        auto n = node(K::Ternary, pos);
        n->x = test;
        n->y = a;
        n->z = if_expr();
        return n;
      }
      auto n = node(K::Select, pos);
      n->x = a;
      n->y = test;
      return n;
    }
    return a;
  }

  NodeP binary(const std::string& op, size_t pos, NodeP l, NodeP r) {
    auto n = node(K::Binary, pos);
    n->s = op;
    n->x = std::move(l);
    n->y = std::move(r);
    return n;
  }

  NodeP or_expr() {
    auto l = and_expr();
    while (is_ident("or")) { size_t p = here(); ++cur_; l = binary("or", p, l, and_expr()); }
    return l;
  }
  NodeP and_expr() {
    auto l = not_expr();
    while (is_ident("and")) { size_t p = here(); ++cur_; l = binary("and", p, l, not_expr()); }
    return l;
  }
  NodeP not_expr() {
    NodeP right;
    while (is_ident("not")) {
      size_t p = here();
      ++cur_;
      auto n = node(K::Unary, p);
      n->s = "not";
      n->x = not_expr();
      right = n;
    }
    return right ? right : comparison();
  }
  NodeP comparison() {
    auto l = additive();
    while (true) {
      size_t p = here();
      std::string op;
      if (is_ident("not") && is_ident("in", 1)) { op = "not in"; cur_ += 2; }
      else if (is_ident("in")) { op = "in"; ++cur_; }
      else if (is(Tok::Comparison)) { op = t_[cur_++].value; }
      else break;
      l = binary(op, p, l, additive());
    }
    return l;
  }
  NodeP additive() {
    auto l = multiplicative();
    while (is(Tok::Additive)) { size_t p = here(); std::string op = t_[cur_++].value; l = binary(op, p, l, multiplicative()); }
    return l;
  }
  NodeP multiplicative() {
    auto l = power();
    while (is(Tok::Multiplicative)) { size_t p = here(); std::string op = t_[cur_++].value; l = binary(op, p, l, power()); }
    return l;
  }
  NodeP power() {
    auto l = test_expr();
    while (is(Tok::Power)) { size_t p = here(); ++cur_; l = binary("**", p, l, test_expr()); }
    return l;
  }
  NodeP test_expr() {
    auto operand = filter_expr();
    while (is_ident("is")) {
      size_t p = here();
      ++cur_;
      bool neg = is_ident("not");
      if (neg) ++cur_;
      auto t = primary();
      if (t->k != K::Ident) err("expected identifier for the test");
      auto n = node(K::Test, p);
      n->x = operand;
      n->s = t->s;
      n->flag = neg;
      operand = n;
    }
    return operand;
  }
  NodeP filter_expr() {
    auto operand = unary_sign();
    while (is(Tok::Pipe)) {
      size_t p = here();
      ++cur_;
      auto f = primary();
      if (f->k != K::Ident) err("expected identifier for the filter");
      if (is(Tok::OpenParen)) f = call_expr(f);
      auto n = node(K::Filter, p);
      n->x = operand;
      n->y = f;
      operand = n;
    }
    return operand;
  }
  NodeP unary_sign() {
    if ((is(Tok::Unary) || is(Tok::Additive)) && (t_[cur_].value == "-" || t_[cur_].value == "+")) {
      auto n = node(K::Unary, here());
      n->s = t_[cur_++].value;
      n->x = unary_sign();
      return n;
    }
    return call_member();
  }
  NodeP call_member() {
    auto m = member(primary());
    if (is(Tok::OpenParen)) return call_expr(m);
    return m;
  }
  NodeP call_expr(NodeP callee) {
    auto n = node(K::Call, callee->pos);
    n->x = callee;
    n->a = args(false);
    NodeP e = member(n);
    if (is(Tok::OpenParen)) e = call_expr(e);
    return e;
  }

  std::vector<NodeP> args(bool params) {
    expect(Tok::OpenParen, "'('");
    std::vector<NodeP> out;
    std::set<std::string> names;
    bool saw_kw = false, saw_spread = false;
    while (!is(Tok::CloseParen)) {
      need_more("')'");
      bool kw_spread = is(Tok::Power);
      bool pos_spread = is(Tok::Multiplicative) && t_[cur_].value == "*";
      if (params && (kw_spread || pos_spread)) err("argument unpacking is not allowed in parameter declarations");
      if (kw_spread) {
        auto n = node(K::KwSpread, here());
        ++cur_;
        n->x = expression();
        out.push_back(n);
        if (is(Tok::Comma)) ++cur_;
        if (!is(Tok::CloseParen)) err("'**' must be applied to the final argument");
        break;
      }
      NodeP arg;
      if (pos_spread) {
        if (saw_spread) err("only one '*' argument unpacking is allowed");
        saw_spread = true;
        arg = node(K::Spread, here());
        ++cur_;
        arg->x = expression();
      } else {
        arg = expression();
        if (is(Tok::Equals)) {
          ++cur_;
          if (arg->k != K::Ident) err(params ? "expected identifier for parameter declaration" : "expected identifier for keyword argument");
          auto kw = node(K::KwArg, arg->pos);
          kw->s = arg->s;
          kw->x = expression();
          arg = kw;
        }
        if (params) {
          if (arg->k != K::Ident && arg->k != K::KwArg) err("expected identifier for parameter declaration");
          if (!names.insert(arg->s).second) err("duplicate parameter name: " + arg->s);
        }
        if (arg->k == K::KwArg) saw_kw = true;
        else if (saw_kw) err(params ? "non-default argument follows default argument" : "positional arguments must come before keyword arguments");
        else if (saw_spread) err("positional arguments must not follow '*' argument unpacking");
      }
      out.push_back(arg);
      if (is(Tok::Comma)) ++cur_;
    }
    ++cur_;
    return out;
  }

  NodeP member_args() {
    size_t pos = here();
    std::vector<NodeP> slices;
    bool is_slice = false;
    while (!is(Tok::CloseBracket)) {
      need_more("']'");
      if (is(Tok::Colon)) { slices.push_back(nullptr); ++cur_; is_slice = true; }
      else {
        slices.push_back(expression());
        if (is(Tok::Colon)) { ++cur_; is_slice = true; }
      }
    }
    if (slices.empty()) err("expected at least one argument for member/slice expression");
    if (is_slice) {
      if (slices.size() > 3) err("expected 0-3 arguments for slice expression");
      auto n = node(K::Slice, pos);
      n->x = slices.size() > 0 ? slices[0] : nullptr;
      n->y = slices.size() > 1 ? slices[1] : nullptr;
      n->z = slices.size() > 2 ? slices[2] : nullptr;
      return n;
    }
    return slices[0];
  }

  NodeP member(NodeP obj) {
    while (is(Tok::Dot) || is(Tok::OpenBracket)) {
      size_t p = here();
      bool computed = is(Tok::OpenBracket);
      ++cur_;
      NodeP prop;
      if (computed) {
        prop = member_args();
        expect(Tok::CloseBracket, "']'");
      } else {
        prop = primary();
        if (prop->k != K::Ident && prop->k != K::Int) err("expected identifier or integer following '.'");
      }
      auto n = node(K::Member, p);
      n->x = obj;
      n->y = prop;
      n->flag = computed;
      obj = n;
    }
    return obj;
  }

  NodeP primary() {
    need_more("an expression");
    const Token& tk = t_[cur_++];
    switch (tk.type) {
      case Tok::Number: {
        if (tk.value.find('.') != std::string::npos) {
          auto n = node(K::Float, tk.pos);
          n->f = std::stod(tk.value);
          return n;
        }
        auto n = node(K::Int, tk.pos);
        n->i = std::stoll(tk.value);
        return n;
      }
      case Tok::String: {
        auto n = node(K::Str, tk.pos);
        n->s = tk.value;
        while (is(Tok::String)) n->s += t_[cur_++].value;
        return n;
      }
      case Tok::Ident: { auto n = node(K::Ident, tk.pos); n->s = tk.value; return n; }
      case Tok::OpenParen: {
        auto e = expr_sequence(false);
        expect(Tok::CloseParen, "')'");
        return e;
      }
      case Tok::OpenBracket: {
        auto n = node(K::ArrayLit, tk.pos);
        while (!is(Tok::CloseBracket)) {
          need_more("']'");
          n->a.push_back(expression());
          if (is(Tok::Comma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      case Tok::OpenBrace: {
        auto n = node(K::ObjectLit, tk.pos);
        while (!is(Tok::CloseBrace)) {
          need_more("'}'");
          n->a.push_back(expression());
          expect(Tok::Colon, "':' between key and value");
          n->b.push_back(expression());
          if (is(Tok::Comma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      default:
        --cur_;
        err("unexpected token '" + tk.value + "'");
    }
  }
};

}  // namespace

NodeP parse(std::string_view source) {
  Parser p(source, tokenize(source));
  return p.program();
}

}  // namespace mixq::text::jinja
