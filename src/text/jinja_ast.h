// Jinja syntax tree. One node type with a kind tag keeps the interpreter a single switch.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mixq::text::jinja {

struct Node;
using NodeP = std::shared_ptr<Node>;

struct Node {
  enum class K {
    Program, Text, Comment, Set, If, For, Macro, CallStmt, FilterStmt, Break, Continue,
    Int, Float, Str, ArrayLit, TupleLit, ObjectLit, Ident, Member, Call, Unary, Binary, Filter,
    Test, Select, Ternary, Slice, KwArg, Spread, KwSpread
  };
  K k;
  size_t pos = 0;  // offset in the template source
  std::string s;   // text, name or operator
  int64_t i = 0;
  double f = 0;
  bool flag = false;            // Member: computed; Test: negated; CallStmt: has caller args
  NodeP x, y, z;                // see the parser for each kind's use
  std::vector<NodeP> a, b;      // bodies, argument lists, literal items

  Node(K k, size_t pos) : k(k), pos(pos) {}
};

}  // namespace mixq::text::jinja
