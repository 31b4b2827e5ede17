// HF tokenizers normalizers (tokenizer.json "normalizer"): only the resulting text matters here,
// offsets are not tracked.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace mixq::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string_view s) const = 0;
};

// null -> nullptr. Throws InputError for unknown or malformed entries.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j);

}  // namespace mixq::text
