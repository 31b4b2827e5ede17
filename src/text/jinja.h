// Jinja chat-template engine. Renders byte-identically to @huggingface/jinja (transformers.js),
// which applies trim_blocks and lstrip_blocks as transformers does; checked by
// tests/scripts/text_reference.sh. Errors (syntax or raised while rendering) are TemplateError
// with the line and column in the template source.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "text/jinja_lexer.h"

namespace mixq::text::jinja {

struct Node;

class Template {
 public:
  explicit Template(std::string source);  // parses; throws TemplateError
  ~Template();
  // `context` is a JSON object: its keys become template variables.
  std::string render(const nlohmann::ordered_json& context) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::shared_ptr<Node> program_;
};

}  // namespace mixq::text::jinja
