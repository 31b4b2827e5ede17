// Builds the calibration samples a CalibSpec describes: per source, the records of its file (jsonl
// objects or txt paragraphs/lines), a seeded shuffle, the first `count` records, formatted as text or
// as chat messages. Deterministic: a pure function of the spec, the files and the seed; a source's
// picks depend only on (seed, its name, its file), so adding a source does not change the others.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "calib/calib_spec.h"

namespace mixq::calib {

struct CalibSample {
  std::string source;               // the source's name
  SampleFormat format = SampleFormat::Text;
  std::string text;                 // Text: the sample
  nlohmann::ordered_json messages;  // Chat: [{"role", "content"[, "reasoning_content"]}]
  std::vector<int64_t> records;     // record indices used (several for concatenated long context)
};

// Sample records of one source file. jsonl: the objects (InputError naming file:line for a bad line);
// txt: the text split as the source says. Exposed for tests.
std::vector<nlohmann::ordered_json> load_jsonl_records(const std::string& path);
std::vector<std::string> load_txt_records(const std::string& path, TxtSplit split);

// "{field}" substitution from a JSON object; "{{" / "}}" are literal braces. Strings are inserted as
// they are, numbers and booleans as JSON text. InputError names `what` and the missing field.
std::string format_record(const std::string& tmpl, const nlohmann::ordered_json& record, const std::string& what);

// The exact permutation used to pick records: Fisher-Yates driven by splitmix64 (portable; no
// std::uniform_int_distribution, whose output differs between standard libraries).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);
uint64_t source_seed(uint64_t seed, const std::string& source_name);

// All samples, grouped by source in spec order, then shuffled together with the spec seed.
std::vector<CalibSample> build_calibration_samples(const CalibSpec& spec);

}  // namespace mixq::calib
