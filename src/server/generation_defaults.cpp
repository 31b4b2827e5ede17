#include "server/generation_defaults.h"

#include <filesystem>

#include "util/error.h"
#include "io/checkpoint.h"
#include "util/file_util.h"

namespace mixq::server {

namespace {

nlohmann::json read_json_object(const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(read_file(path), nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail("{}: not a JSON object", path);
  return j;
}

std::optional<double> number_of(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_number()) fail("{}: \"{}\" must be a number", where, key);
  return j[key].get<double>();
}

}  // namespace

GenerationDefaults GenerationDefaults::load(const std::string& model_dir, const std::string& mode,
                                            const std::string& override_json) {
  nlohmann::json cfg = nlohmann::json::object();
  if (mode == "auto") {
    const std::string p = path_join(model_dir, "generation_config.json");
    if (file_exists(p)) cfg = read_json_object(p);
  } else if (mode != "vllm") {
    const std::string p = path_join(mode, "generation_config.json");
    if (!file_exists(p)) fail("--generation-config: expected auto, vllm or a directory with generation_config.json, got '{}'", mode);
    cfg = read_json_object(p);
  }
  if (!override_json.empty()) {
    nlohmann::json o = nlohmann::json::parse(override_json, nullptr, false);
    if (o.is_discarded() || !o.is_object())
      fail("--override-generation-config: expected a JSON object, got '{}'", override_json);
    for (auto it = o.begin(); it != o.end(); ++it) cfg[it.key()] = it.value();
  }
  static const char* kKept[] = {"repetition_penalty", "temperature", "top_k", "top_p", "min_p", "max_new_tokens"};
  GenerationDefaults d;
  const std::string where = "generation config";
  d.temperature = number_of(cfg, "temperature", where);
  d.top_p = number_of(cfg, "top_p", where);
  d.min_p = number_of(cfg, "min_p", where);
  d.repetition_penalty = number_of(cfg, "repetition_penalty", where);
  if (auto k = number_of(cfg, "top_k", where)) d.top_k = int64_t(*k);
  if (auto m = number_of(cfg, "max_new_tokens", where)) d.max_tokens = int64_t(*m);
  // generation_config.json's bookkeeping keys are not sampling parameters: not worth a notice.
  static const char* kQuiet[] = {"bos_token_id", "eos_token_id", "pad_token_id", "do_sample", "transformers_version",
                                 "_from_model_config"};
  for (auto it = cfg.begin(); it != cfg.end(); ++it) {
    bool kept = false;
    for (const char* k : kKept) kept |= it.key() == k;
    for (const char* k : kQuiet) kept |= it.key() == k;
    if (!kept) d.ignored.push_back(it.key());
  }
  if (d.max_tokens && *d.max_tokens < 1) fail("generation config: max_new_tokens must be >= 1, got {}", *d.max_tokens);
  return d;
}

nlohmann::ordered_json GenerationDefaults::to_json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (repetition_penalty) j["repetition_penalty"] = *repetition_penalty;
  if (temperature) j["temperature"] = *temperature;
  if (top_k) j["top_k"] = *top_k;
  if (top_p) j["top_p"] = *top_p;
  if (min_p) j["min_p"] = *min_p;
  if (max_tokens) j["max_tokens"] = *max_tokens;
  return j;
}

}  // namespace mixq::server
