// Readers for the bundled benchmark files (data/eval/, each folder with SOURCE.txt and the
// licence): JSON Lines and MMLU's header-less CSV (question, A, B, C, D, answer; quoted fields may
// hold commas, doubled quotes and newlines). Bad files throw InputError naming file and line.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mixq::eval {

// Python's json module writes NaN, Infinity and -Infinity bare (MBPP+'s inputs hold a few), which
// JSON does not allow; they are read as the strings kNonFinite + "nan" / "inf" / "-inf", and the
// sandbox driver turns them back into floats.
inline constexpr const char* kNonFinite = "\u0001mixq-float:";
std::vector<nlohmann::json> read_jsonl(const std::string& path);
std::vector<std::vector<std::string>> read_csv(const std::string& path);

// The data directory: --data, else $MIXQ_DATA_DIR, else data/eval next to the executable's
// build tree (../data/eval, ../../data/eval) or an install's ../share/mixq/eval.
std::string find_data_dir(const std::string& flag);

}  // namespace mixq::eval
