#include "runtime/generate.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/file_util.h"

namespace mixq {

GenerateResult generate(const Model& m, const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                        const std::function<bool(int32_t)>& on_token) {
  if (prompt.empty()) fail("generate: the prompt has no tokens");
  if (opt.max_new_tokens < 0) fail("generate: max_new_tokens must be >= 0");
  const int64_t cap = opt.context > 0 ? opt.context : int64_t(prompt.size()) + opt.max_new_tokens;
  if (int64_t(prompt.size()) > cap) fail("generate: prompt of {} tokens exceeds the context of {}", prompt.size(), cap);
  KvCache cache(m.config(), cap, opt.kv_type);
  Sampler sampler(opt.sampling);
  GenerateResult r;
  std::vector<float> logits(size_t(m.vocab()));
  std::vector<int32_t> context = prompt;
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  m.forward(prompt.data(), int64_t(prompt.size()), cache, nullptr, logits.data(), ForwardOptions{opt.prefill_chunk});
  auto t1 = clock::now();
  r.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  r.finish_reason = "length";
  for (int64_t i = 0; i < opt.max_new_tokens; ++i) {
    const int32_t tok = sampler.sample(logits.data(), m.vocab(), context, r.tokens);
    r.tokens.push_back(tok);
    context.push_back(tok);
    if (on_token && !on_token(tok)) { r.finish_reason = "callback"; break; }
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), tok) != opt.stop_ids.end()) { r.finish_reason = "stop"; break; }
    if (i + 1 == opt.max_new_tokens) break;
    if (cache.length() >= cache.capacity()) break;  // context full
    m.forward(&tok, 1, cache, nullptr, logits.data());
  }
  r.decode_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return r;
}

std::vector<int32_t> default_stop_ids(const Model& m) {
  std::vector<int32_t> ids;
  auto add = [&](const nlohmann::json& v) {
    if (v.is_number_integer()) ids.push_back(v.get<int32_t>());
    else if (v.is_array())
      for (auto& x : v)
        if (x.is_number_integer()) ids.push_back(x.get<int32_t>());
  };
  const std::string gc = m.checkpoint().dir() + "/generation_config.json";
  if (file_exists(gc)) {
    std::ifstream f(gc);
    auto j = nlohmann::json::parse(f, nullptr, false);
    if (!j.is_discarded() && j.contains("eos_token_id")) add(j["eos_token_id"]);
  }
  if (ids.empty())
    for (auto id : m.config().eos_token_ids) ids.push_back(int32_t(id));
  return ids;
}

}  // namespace mixq
