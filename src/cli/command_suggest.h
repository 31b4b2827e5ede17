// "unknown command 'quantise' (did you mean 'quantize'?)": the closest registered command name,
// for the one-line error of a mistyped subcommand.
#pragma once
#include <string>
#include <vector>

namespace mixq::cli {

// Edit distance (insert, delete, substitute, swap of neighbours), small strings only.
int edit_distance(const std::string& a, const std::string& b);
// The closest of `names` to `word` when it is plausibly a typo (distance <= 2 or a prefix), else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& names);

}  // namespace mixq::cli
