#include "eval/kld.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "runtime/model.h"
#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/progress.h"
#include "util/thread_pool.h"

namespace mixq::eval {

void KldStats::add(const KldStats& o) {
  positions += o.positions;
  kld_sum += o.kld_sum;
  kld_max = std::max(kld_max, o.kld_max);
  top1_agree += o.top1_agree;
}

nlohmann::ordered_json KldStats::to_json() const {
  return {{"positions", positions}, {"mean_kld", mean_kld()}, {"max_kld", kld_max}, {"top1_agreement", top1()}};
}

nlohmann::ordered_json KldResult::to_json() const {
  nlohmann::ordered_json j = all.to_json();
  nlohmann::ordered_json s = nlohmann::ordered_json::object();
  for (const auto& [name, st] : by_source) s[name] = st.to_json();
  j["by_source"] = s;
  return j;
}

double kl_divergence_row(const float* p, const float* q, int64_t V, bool* top1_agree) {
  int64_t ap = 0, aq = 0;
  for (int64_t i = 1; i < V; ++i) {
    if (p[i] > p[ap]) ap = i;
    if (q[i] > q[aq]) aq = i;
  }
  if (top1_agree) *top1_agree = ap == aq;
  const double mp = p[ap], mq = q[aq];
  double zp = 0, zq = 0;
  for (int64_t i = 0; i < V; ++i) {
    zp += std::exp(double(p[i]) - mp);
    zq += std::exp(double(q[i]) - mq);
  }
  const double lzp = std::log(zp) + mp, lzq = std::log(zq) + mq;
  // sum p_i (log p_i - log q_i), log p_i = p_i - lse(p)
  double kl = 0;
  for (int64_t i = 0; i < V; ++i) {
    const double lp = double(p[i]) - lzp, lq = double(q[i]) - lzq;
    kl += std::exp(lp) * (lp - lq);
  }
  return std::max(kl, 0.0);  // tiny negative rounding for identical rows
}

KldResult compare_models(const Model& ref, const Model& mod, const std::vector<EvalSequence>& seqs) {
  const int64_t V = ref.vocab();
  if (mod.vocab() != V) fail("eval: vocabularies differ (reference {}, model {})", V, mod.vocab());
  KldResult res;
  // Progress in positions through both models (a bar on a terminal, nothing in CI): `eval kld` and
  // `quantize --eval-text` run for minutes on a real model.
  uint64_t total = 0;
  for (const auto& s : seqs) total += s.ids.size();
  Progress prog("kld", total, "tokens");
  for (const auto& s : seqs) {
    const int64_t T = int64_t(s.ids.size());
    if (T == 0) continue;
    for (int32_t id : s.ids)
      if (id < 0 || id >= V) fail("eval: token id {} outside the vocabulary [0, {})", id, V);
    std::vector<float> a(size_t(T * V)), b(size_t(T * V));
    {
      KvCache c(ref.config(), T, kernels::KvType::F32);
      ref.forward(s.ids.data(), T, c, a.data(), nullptr);
    }
    {
      KvCache c(mod.config(), T, kernels::KvType::F32);
      mod.forward(s.ids.data(), T, c, b.data(), nullptr);
    }
    std::vector<double> kl(static_cast<size_t>(T));
    std::vector<char> agree(static_cast<size_t>(T));
    ThreadPool::global().parallel_for(size_t(T), 1, [&](size_t b0, size_t b1, size_t) {
      for (int64_t t = int64_t(b0); t < int64_t(b1); ++t) {
        bool ag = false;
        kl[size_t(t)] = kl_divergence_row(a.data() + t * V, b.data() + t * V, V, &ag);
        agree[size_t(t)] = ag;
      }
    });
    KldStats st;
    for (int64_t t = 0; t < T; ++t) {  // fixed order: thread-count independent sums
      st.positions++;
      st.kld_sum += kl[size_t(t)];
      st.kld_max = std::max(st.kld_max, kl[size_t(t)]);
      st.top1_agree += agree[size_t(t)];
    }
    res.all.add(st);
    auto it = std::find_if(res.by_source.begin(), res.by_source.end(), [&](const auto& p) { return p.first == s.source; });
    if (it == res.by_source.end()) res.by_source.push_back({s.source, st});
    else it->second.add(st);
    prog.advance(uint64_t(T));
  }
  prog.finish();
  return res;
}

std::vector<EvalSequence> text_sequences(const std::string& text, const std::string& tokenizer_dir, int64_t seq_len,
                                         int64_t max_tokens) {
  if (seq_len < 2) fail("eval: --seq-len must be >= 2");
  auto tk = text::Tokenizer::load(path_join(tokenizer_dir, "tokenizer.json"));
  std::vector<int32_t> ids = tk->encode(text, /*add_special_tokens=*/true);
  std::vector<EvalSequence> out;
  int64_t used = 0;
  for (size_t i = 0; i < ids.size() && used < max_tokens;) {
    int64_t n = std::min<int64_t>({seq_len, int64_t(ids.size() - i), max_tokens - used});
    if (n < 2) break;
    out.push_back({"text", std::vector<int32_t>(ids.begin() + int64_t(i), ids.begin() + int64_t(i) + n)});
    used += n;
    i += size_t(n);
  }
  return out;
}

std::vector<EvalSequence> gsm8k_chat_sequences(const std::string& jsonl_path, const std::string& model_dir, int64_t seq_len,
                                               int64_t max_tokens) {
  auto tk = text::Tokenizer::load(path_join(model_dir, "tokenizer.json"));
  auto chat = text::ChatTemplate::load(model_dir);
  std::istringstream in(read_file(jsonl_path));
  std::string line;
  std::vector<EvalSequence> out;
  int64_t used = 0, lineno = 0;
  while (used < max_tokens && std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::ordered_json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("question") || !j.contains("answer") || !j["question"].is_string() ||
        !j["answer"].is_string())
      fail("{}:{}: expected a JSON object with string fields question and answer", jsonl_path, lineno);
    nlohmann::ordered_json req = {
        {"messages", nlohmann::ordered_json::array({{{"role", "user"}, {"content", j["question"]}},
                                                     {{"role", "assistant"}, {"content", j["answer"]}}})},
        {"add_generation_prompt", false}};
    std::vector<int32_t> ids = text::encode_prompt(*tk, chat->render(req));
    int64_t n = std::min<int64_t>({seq_len, int64_t(ids.size()), max_tokens - used});
    if (n < 2) break;
    ids.resize(size_t(n));
    out.push_back({"gsm8k_chat", std::move(ids)});
    used += n;
  }
  return out;
}

}  // namespace mixq::eval
