#include "runtime/scheduler.h"

#include <algorithm>
#include <cmath>

#include "runtime/kv_pool.h"
#include "util/error.h"
#include "util/log.h"

namespace mixq {

struct Scheduler::Seq {
  uint64_t id = 0;
  std::vector<int32_t> tokens;     // prompt + generated
  std::vector<int32_t> generated;
  int64_t prompt_len = 0;
  int64_t computed = 0;            // positions whose K/V are in the pool
  std::vector<int32_t> blocks;     // block table
  std::vector<uint64_t> hashes;    // chain hashes of the full blocks published so far
  SeqParams params;
  std::unique_ptr<Sampler> sampler;
  std::shared_ptr<SeqSink> sink;
  std::shared_ptr<SeqHandle> handle;
  SeqResult result;
  bool done = false;
};

Scheduler::Scheduler(const Model& m, KvPool& pool, SchedulerOptions opt) : model_(m), pool_(pool), opt_(opt) {
  if (opt_.max_model_len <= 0) opt_.max_model_len = m.config().max_position_embeddings;
  if (opt_.max_num_seqs < 1) fail("--max-num-seqs must be >= 1, got {}", opt_.max_num_seqs);
  if (opt_.max_batched_tokens < 1) fail("--max-num-batched-tokens must be >= 1, got {}", opt_.max_batched_tokens);
  // One sequence of max_model_len tokens must fit in the pool on its own, or it could never finish
  // (vLLM refuses to start in the same case).
  const int64_t cap = pool.num_blocks() * pool.block_size();
  if (cap < opt_.max_model_len)
    fail("the KV cache holds {} tokens ({} blocks of {}), less than --max-model-len {}: lower --max-model-len or "
         "raise --kv-cache-memory",
         cap, pool.num_blocks(), pool.block_size(), opt_.max_model_len);
  stats_.num_blocks = pool.num_blocks();
}

Scheduler::~Scheduler() {
  // Blocks go back to the pool (which may outlive the scheduler).
  for (auto& s : running_) release_blocks(*s);
  for (auto& s : waiting_) release_blocks(*s);
}

std::shared_ptr<SeqHandle> Scheduler::submit(std::vector<int32_t> prompt, SeqParams params,
                                             std::shared_ptr<SeqSink> sink) {
  MIXQ_ASSERT(!prompt.empty());
  params.sampling.validate();
  auto s = std::make_unique<Seq>();
  s->tokens = std::move(prompt);
  s->prompt_len = int64_t(s->tokens.size());
  s->params = std::move(params);
  s->sampler = std::make_unique<Sampler>(s->params.sampling);
  s->sink = std::move(sink);
  s->handle = std::make_shared<SeqHandle>();
  s->result.prompt_tokens = s->prompt_len;
  auto h = s->handle;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (waiting_count_ + int64_t(inbox_.size()) >= opt_.max_waiting)
      throw QueueFull("the server is at capacity: " + std::to_string(opt_.max_waiting) + " requests waiting");
    s->id = next_id_++;
    inbox_.push_back(std::move(s));
  }
  cv_.notify_one();
  return h;
}

void Scheduler::wake() { cv_.notify_all(); }

void Scheduler::take_inbox() {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& s : inbox_) waiting_.push_back(std::move(s));
  inbox_.clear();
}

bool Scheduler::ensure_blocks(Seq& s, int64_t positions) {
  const int64_t need = (positions + pool_.block_size() - 1) / pool_.block_size();
  while (int64_t(s.blocks.size()) < need) {
    auto b = pool_.allocate();
    if (!b) return false;
    s.blocks.push_back(*b);
  }
  return true;
}

void Scheduler::release_blocks(Seq& s) {
  // Last block first: with LRU eviction, a prefix's tail goes before its head.
  for (auto it = s.blocks.rbegin(); it != s.blocks.rend(); ++it) pool_.release(*it);
  s.blocks.clear();
  s.hashes.clear();
  s.computed = 0;
}

void Scheduler::preempt(Seq& s) {
  release_blocks(s);
  s.result.preemptions++;
  std::lock_guard<std::mutex> lk(mu_);
  stats_.preemptions++;
}

void Scheduler::admit_prefix(Seq& s) {
  if (!opt_.prefix_caching || s.computed > 0) return;
  const int64_t B = pool_.block_size(), n = int64_t(s.tokens.size());
  uint64_t parent = 0;
  // Full blocks only, and never the last token: its logits are needed, so it is computed.
  for (int64_t bi = 0; (bi + 1) * B <= n - 1; ++bi) {
    const int32_t* t = s.tokens.data() + bi * B;
    const uint64_t h = KvPool::chain_hash(parent, t, B);
    auto b = pool_.lookup(h, parent, t);
    if (!b) break;
    s.blocks.push_back(*b);
    s.hashes.push_back(h);
    parent = h;
  }
  s.computed = int64_t(s.blocks.size()) * B;
  std::lock_guard<std::mutex> lk(mu_);
  stats_.prefix_queries += n;
  stats_.prefix_hits += s.computed;
}

void Scheduler::publish_blocks(Seq& s) {
  if (!opt_.prefix_caching) return;
  const int64_t B = pool_.block_size();
  while (int64_t(s.hashes.size() + 1) * B <= s.computed) {
    const int64_t bi = int64_t(s.hashes.size());
    const uint64_t parent = bi ? s.hashes.back() : 0;
    const int32_t* t = s.tokens.data() + bi * B;
    const uint64_t h = KvPool::chain_hash(parent, t, B);
    pool_.publish(s.blocks[size_t(bi)], h, parent, t);
    s.hashes.push_back(h);
  }
}

void Scheduler::finish(Seq& s, const std::string& reason) {
  s.done = true;
  s.result.finish_reason = reason;
  s.result.generated = int64_t(s.generated.size());
  release_blocks(s);
  if (s.sink) s.sink->on_finish(s.result);
}

void Scheduler::sample(Seq& s, float* logits) {
  const int64_t V = model_.vocab();
  TokenEvent ev;
  std::vector<float> raw;
  if (s.params.top_logprobs >= 0) raw.assign(logits, logits + V);
  ev.id = s.sampler->sample(logits, V, s.tokens, s.generated);
  if (!raw.empty()) {
    // log-softmax of the raw logits (vLLM's default logprobs mode), in double for the sum.
    const float mx = *std::max_element(raw.begin(), raw.end());
    double sum = 0;
    for (float x : raw) sum += std::exp(double(x - mx));
    const float lse = mx + float(std::log(sum));
    ev.logprob = raw[size_t(ev.id)] - lse;
    const int64_t k = std::min<int64_t>(s.params.top_logprobs, V);
    std::vector<int32_t> idx(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i) idx[size_t(i)] = int32_t(i);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int32_t a, int32_t b) { return raw[size_t(a)] > raw[size_t(b)] || (raw[size_t(a)] == raw[size_t(b)] && a < b); });
    for (int64_t i = 0; i < k; ++i) ev.top.emplace_back(idx[size_t(i)], raw[size_t(idx[size_t(i)])] - lse);
  }
  s.tokens.push_back(ev.id);
  s.generated.push_back(ev.id);
  const auto& p = s.params;
  const bool may_stop = int64_t(s.generated.size()) > p.min_tokens;
  const bool eos = !p.ignore_eos && std::find(p.eos_ids.begin(), p.eos_ids.end(), ev.id) != p.eos_ids.end();
  const bool stop_id = std::find(p.stop_ids.begin(), p.stop_ids.end(), ev.id) != p.stop_ids.end();
  ev.stop_token = may_stop && (eos || stop_id);
  {
    std::lock_guard<std::mutex> lk(mu_);
    stats_.generation_tokens++;
  }
  const bool go_on = s.sink ? s.sink->on_token(ev) : true;
  if (ev.stop_token) {
    s.result.stop_token = ev.id;
    return finish(s, "stop");
  }
  if (!go_on) return finish(s, "stop");
  if (int64_t(s.generated.size()) >= p.max_tokens || int64_t(s.tokens.size()) >= opt_.max_model_len)
    return finish(s, "length");
}

bool Scheduler::step() {
  take_inbox();
  int64_t budget = opt_.max_batched_tokens;
  struct Planned { Seq* s; int64_t n; };
  std::vector<Planned> plan;
  bool preempted = false;

  // 1. Running sequences, oldest first.
  for (size_t i = 0; i < running_.size();) {
    Seq& s = *running_[i];
    if (s.handle->cancelled.load()) {
      finish(s, "abort");
      running_.erase(running_.begin() + std::ptrdiff_t(i));
      continue;
    }
    const int64_t n = std::min<int64_t>(int64_t(s.tokens.size()) - s.computed, budget);
    if (n <= 0) break;
    bool ok = true;
    while (!ensure_blocks(s, s.computed + n)) {
      // Preempt the newest running sequence (possibly s itself).
      Seq* victim = running_.back().get();
      preempt(*victim);
      preempted = true;
      waiting_.push_front(std::move(running_.back()));
      running_.pop_back();
      if (victim == &s) { ok = false; break; }
    }
    if (!ok) break;
    plan.push_back({&s, n});
    budget -= n;
    ++i;
  }

  // 2. Waiting sequences, first come first served.
  while (!preempted && !waiting_.empty() && int64_t(running_.size()) < opt_.max_num_seqs && budget > 0) {
    Seq& s = *waiting_.front();
    if (s.handle->cancelled.load()) {
      finish(s, "abort");
      waiting_.pop_front();
      continue;
    }
    const bool first = s.computed == 0 && s.result.preemptions == 0;
    admit_prefix(s);
    if (first) s.result.cached_tokens = s.computed;
    const int64_t n = std::min<int64_t>(int64_t(s.tokens.size()) - s.computed, budget);
    if (!ensure_blocks(s, s.computed + n)) {
      release_blocks(s);  // blocks come back when running sequences finish
      break;
    }
    if (first) {
      std::lock_guard<std::mutex> lk(mu_);
      stats_.prompt_tokens += s.prompt_len;
    }
    plan.push_back({&s, n});
    budget -= n;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }

  int64_t rows = 0;
  if (!plan.empty()) {
    // 3. One forward over every scheduled row.
    std::vector<PagedKvSeq> kv;
    kv.reserve(plan.size());
    std::vector<BatchSegment> segs;
    int64_t nlog = 0;
    for (const Planned& p : plan) {
      kv.emplace_back(pool_, p.s->blocks);
      const bool want = p.s->computed + p.n == int64_t(p.s->tokens.size());
      segs.push_back({p.s->tokens.data() + p.s->computed, p.n, p.s->computed, &kv.back(), want});
      nlog += want;
      rows += p.n;
    }
    logits_.resize(size_t(nlog * model_.vocab()));
    bool failed = false;
    uint64_t expert_bytes = 0;
    ForwardOptions fo;
    fo.expert_bytes = &expert_bytes;
    fo.phases = opt_.phases;
    try {
      model_.forward_batch(segs.data(), segs.size(), logits_.data(), fo);
    } catch (const std::exception& e) {
      MIXQ_WARN("engine step failed, its sequences are aborted: {}", e.what());
      failed = true;
    }
    int64_t j = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
      Seq& s = *plan[i].s;
      if (failed) {
        finish(s, "abort");
        continue;
      }
      s.computed += plan[i].n;
      publish_blocks(s);
      if (segs[i].logits) sample(s, logits_.data() + (j++) * model_.vocab());
    }
    running_.erase(std::remove_if(running_.begin(), running_.end(), [](const auto& s) { return s->done; }),
                   running_.end());
    std::lock_guard<std::mutex> lk(mu_);
    stats_.last_step_expert_bytes = expert_bytes;
    stats_.last_step_sequences = int64_t(plan.size());
    int64_t ctx = 0;
    for (const Planned& p : plan) ctx += p.s->computed;
    stats_.last_step_context = ctx;
  }
  std::lock_guard<std::mutex> lk(mu_);
  stats_.running = int64_t(running_.size());
  waiting_count_ = int64_t(waiting_.size());
  stats_.blocks_in_use = pool_.blocks_in_use();
  stats_.last_step_tokens = rows;
  if (!plan.empty()) stats_.steps++;
  return !plan.empty() || !running_.empty() || !waiting_.empty();
}

void Scheduler::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    if (step()) continue;
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(50), [&] { return !inbox_.empty() || stop.load(); });
  }
  // Whatever is left ends as aborted, so no client waits forever.
  take_inbox();
  for (auto& s : running_) finish(*s, "abort");
  for (auto& s : waiting_) finish(*s, "abort");
  running_.clear();
  waiting_.clear();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  SchedulerStats r = stats_;
  r.waiting = waiting_count_ + int64_t(inbox_.size());
  return r;
}

}  // namespace mixq
