// Python's number parsing and json.dumps output, which vLLM's tool parsers use to build
// `arguments`: int()/float() acceptance rules, float repr, and dumps(ensure_ascii=False) with
// the default ", " / ": " separators.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mixq::text::py {

// Python str.strip(): trims Unicode White_Space plus the ASCII separators at both ends.
std::string_view strip(std::string_view s);
// Python int(s) -> canonical decimal digits (arbitrary size), nullopt on ValueError.
std::optional<std::string> parse_int(std::string_view s);
// Python float(s), nullopt on ValueError.
std::optional<double> parse_float(std::string_view s);
// Python repr(float) as json.dumps writes it (NaN / Infinity / -Infinity for the specials).
std::string float_repr(double d);
// Python json.dumps(str, ensure_ascii=False).
std::string dumps_string(std::string_view s);
// json.dumps(json.loads(text)) for a parsed value (ordered keys, Python float repr).
std::string dumps(const nlohmann::ordered_json& v);
// json.loads(text): nullopt on JSONDecodeError. Accepts NaN/Infinity at the top level as
// Python does.
std::optional<nlohmann::ordered_json> loads(std::string_view text);

}  // namespace mixq::text::py
