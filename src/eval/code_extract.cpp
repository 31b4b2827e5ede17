#include "eval/code_extract.h"

#include <vector>

namespace mixq::eval {

namespace {

bool defines(const std::string& code, const std::string& entry_point) {
  return code.find("def " + entry_point + "(") != std::string::npos ||
         code.find("def " + entry_point + " (") != std::string::npos;
}

}  // namespace

std::string extract_code(const std::string& text, const std::string& entry_point) {
  std::vector<std::string> blocks;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("```", pos);
    if (open == std::string::npos) break;
    size_t line_end = text.find('\n', open);
    if (line_end == std::string::npos) break;
    size_t close = text.find("```", line_end + 1);
    // An unclosed fence (cut by max_tokens) still holds code up to the end.
    blocks.push_back(text.substr(line_end + 1, close == std::string::npos ? std::string::npos : close - line_end - 1));
    if (close == std::string::npos) break;
    pos = close + 3;
  }
  if (blocks.empty()) return text;
  const std::string* best = nullptr;
  for (const auto& b : blocks)
    if (defines(b, entry_point)) best = &b;
  if (best) return *best;
  for (const auto& b : blocks)
    if (!best || b.size() > best->size()) best = &b;
  return *best;
}

std::string code_program(const std::string& extracted, const std::string& prompt, const std::string& entry_point) {
  if (defines(extracted, entry_point)) return extracted;
  return prompt + extracted;
}

}  // namespace mixq::eval
