// Per-request sampling defaults, as vLLM derives them (docs serving.md §1,
// ModelConfig.get_diff_sampling_param): `--generation-config auto` reads the model's
// generation_config.json, `vllm` ignores it (or a directory holding one); then
// `--override-generation-config JSON` is laid over it. Only repetition_penalty, temperature,
// top_k, top_p, min_p and max_new_tokens survive (any other key, e.g. frequency_penalty, has no
// effect, as in vLLM); max_new_tokens becomes the default max_tokens. A request's own values win.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mixq::server {

struct GenerationDefaults {
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k, max_tokens;
  std::vector<std::string> ignored;  // keys of the merged config that have no effect

  // InputError (exit 2) for a bad mode, an unreadable file or override JSON that is not an object.
  static GenerationDefaults load(const std::string& model_dir, const std::string& mode, const std::string& override_json);
  nlohmann::ordered_json to_json() const;  // the surviving keys, as the startup line prints them
};

}  // namespace mixq::server
