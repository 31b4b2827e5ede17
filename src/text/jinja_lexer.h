// Jinja lexer, token for token what @huggingface/jinja produces (including its preprocessing:
// trailing newline, lstrip_blocks, trim_blocks, {% generation %} removal), with each token's
// offset in the original template so errors can name line and column.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mixq::text::jinja {

enum class Tok {
  Text, Number, String, Ident, Equals, OpenParen, CloseParen, OpenStmt, CloseStmt, OpenExpr,
  CloseExpr, OpenBracket, CloseBracket, OpenBrace, CloseBrace, Comma, Dot, Colon, Pipe,
  Additive, Multiplicative, Power, Comparison, Unary, Comment
};

struct Token {
  Tok type;
  std::string value;
  size_t pos = 0;  // byte offset in the original template source
};

// A template error with its position (1-based line and column, in characters).
class TemplateError : public std::runtime_error {
 public:
  TemplateError(const std::string& msg, int line, int col)
      : std::runtime_error(msg + " (at line " + std::to_string(line) + ", column " + std::to_string(col) + ")"),
        line(line), col(col) {}
  int line, col;
};

// Converts a byte offset into 1-based line and column.
void line_col(std::string_view src, size_t pos, int& line, int& col);

std::vector<Token> tokenize(std::string_view source);

}  // namespace mixq::text::jinja
