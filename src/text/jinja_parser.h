// Jinja parser with @huggingface/jinja's grammar and operator precedence.
#pragma once
#include <string_view>

#include "text/jinja_ast.h"

namespace mixq::text::jinja {

// Throws TemplateError (with line and column) on a syntax error.
NodeP parse(std::string_view source);

}  // namespace mixq::text::jinja
