// Continuous batching over one shared KV pool (vLLM V1's scheduler, docs serving.md §4), for the
// server and its benchmark. Each step():
//   1. running sequences first, in arrival order: a decode takes 1 token, an unfinished prefill
//      min(remaining, budget), under a per-step budget of max_batched_tokens; when the pool has no
//      block for a running sequence, the newest running sequence is preempted (its blocks freed,
//      its tokens kept, put at the front of the waiting queue, recomputed later);
//   2. waiting sequences admitted first-come-first-served while fewer than max_num_seqs run,
//      budget is left and nothing was preempted this step; a prompt's full blocks already in the
//      pool (prefix cache) are taken instead of computed (at least one token is always computed);
//   3. one Model::forward_batch over every scheduled row, then one token sampled for each
//      sequence whose known tokens are all computed.
// Threading: submit() and cancel flags are safe from any thread; step() and run() belong to one
// thread (the server's engine thread). Sinks are called on that thread and must be quick.
// Memory: the pool (runtime/kv_pool.h) plus, per step, the forward's workspace for at most
// max_batched_tokens rows and one vocab-sized logits row per scheduled sequence.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/kv_pool.h"
#include "runtime/model.h"
#include "runtime/sampler.h"

namespace mixq {

struct SeqParams {
  SamplingParams sampling;
  int64_t max_tokens = 16;           // tokens generated at most
  int64_t min_tokens = 0;            // stop ids are ignored before this many tokens
  std::vector<int32_t> eos_ids;      // the model's end tokens (ignored with ignore_eos)
  std::vector<int32_t> stop_ids;     // the request's stop_token_ids
  bool ignore_eos = false;
  int top_logprobs = -1;             // -1: no logprobs; else the number of alternatives (0-20)
};

struct TokenEvent {
  int32_t id = 0;
  bool stop_token = false;  // this token ended the sequence (an end or stop id): not part of the text
  float logprob = 0.f;      // log-softmax of the raw logits (when logprobs were asked for)
  std::vector<std::pair<int32_t, float>> top;
};

struct SeqResult {
  std::string finish_reason;  // "stop" | "length" | "abort"
  int32_t stop_token = -1;    // the id that stopped it, if any
  int64_t prompt_tokens = 0, cached_tokens = 0, generated = 0, preemptions = 0;
};

// Receives a sequence's tokens on the engine thread. on_token returns false to finish the
// sequence now with "stop" (a stop string matched, or the client went away).
class SeqSink {
 public:
  virtual ~SeqSink() = default;
  virtual bool on_token(const TokenEvent& ev) = 0;
  virtual void on_finish(const SeqResult& r) = 0;
};

struct SeqHandle {
  std::atomic<bool> cancelled{false};  // set by the client side; the sequence ends at the next step
};

struct SchedulerOptions {
  int64_t max_num_seqs = 16;
  int64_t max_batched_tokens = 2048;
  int64_t max_model_len = 0;  // prompt + output; 0 = the model's max_position_embeddings
  int64_t max_waiting = 256;  // submit() refuses beyond this many waiting sequences
  bool prefix_caching = true;
  PhaseTimes* phases = nullptr;  // when set, every step's forward adds its phase times (benchmarks)
};

struct SchedulerStats {
  int64_t running = 0, waiting = 0, steps = 0;
  int64_t blocks_in_use = 0, num_blocks = 0;
  int64_t preemptions = 0, prompt_tokens = 0, generation_tokens = 0;
  int64_t prefix_queries = 0, prefix_hits = 0;  // prompt tokens looked up / found in the cache
  int64_t last_step_tokens = 0;      // rows of the last step
  int64_t last_step_sequences = 0;   // sequences in it
  int64_t last_step_context = 0;     // positions their attention read, summed (after the step)
  uint64_t last_step_expert_bytes = 0;  // bytes of the distinct experts it ran (ForwardOptions)
  double kv_usage() const { return num_blocks ? double(blocks_in_use) / double(num_blocks) : 0.0; }
};

class QueueFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Scheduler {
 public:
  Scheduler(const Model& m, KvPool& pool, SchedulerOptions opt);
  ~Scheduler();  // sequences still queued or running end without calling their sinks

  // Thread-safe. Throws QueueFull when max_waiting sequences already wait.
  std::shared_ptr<SeqHandle> submit(std::vector<int32_t> prompt, SeqParams params, std::shared_ptr<SeqSink> sink);

  // One scheduling + forward step; false when there was nothing to do.
  bool step();
  // Steps until stop is set, sleeping while idle.
  void run(const std::atomic<bool>& stop);
  void wake();

  SchedulerStats stats() const;
  const SchedulerOptions& options() const { return opt_; }

 private:
  struct Seq;
  void take_inbox();
  bool ensure_blocks(Seq& s, int64_t positions);
  void release_blocks(Seq& s);
  void preempt(Seq& s);
  void admit_prefix(Seq& s);
  void publish_blocks(Seq& s);
  void finish(Seq& s, const std::string& reason);
  void sample(Seq& s, float* logits);

  const Model& model_;
  KvPool& pool_;
  SchedulerOptions opt_;
  std::vector<std::unique_ptr<Seq>> running_;
  std::deque<std::unique_ptr<Seq>> waiting_;
  std::vector<float> logits_;
  mutable std::mutex mu_;  // guards inbox_, stats_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Seq>> inbox_;
  SchedulerStats stats_;
  int64_t waiting_count_ = 0;  // waiting_.size() as of the last step (read under mu_)
  uint64_t next_id_ = 0;
};

}  // namespace mixq
