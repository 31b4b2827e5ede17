// The Python program to run for a code answer. evalplus asks for "a self-contained Python script
// ... in a markdown code block": we take the fenced block that defines the entry point (the last
// one if several do), else the longest block, else the whole text; when the code does not define
// the entry point (a model that continued the prompt's body), the task's prompt goes in front.
// evalplus's tree-sitter pass that keeps only what the entry point reaches is not reproduced:
// the driver runs the script with __name__ != "__main__", so a main block does not run.
#pragma once
#include <string>

namespace mixq::eval {

std::string extract_code(const std::string& text, const std::string& entry_point);
std::string code_program(const std::string& extracted, const std::string& prompt, const std::string& entry_point);

}  // namespace mixq::eval
