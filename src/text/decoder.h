// HF tokenizers decoders (tokenizer.json "decoder"): token strings -> text.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mixq::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // HF's decode_chain: transforms the token list (a Sequence feeds one into the next).
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j);

}  // namespace mixq::text
