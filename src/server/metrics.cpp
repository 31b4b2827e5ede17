#include "server/metrics.h"

#include <fmt/format.h>

namespace mixq::server {

void Histogram::observe(double x) {
  size_t i = 0;
  while (i < bounds_.size() && x > bounds_[i]) ++i;
  counts_[i]++;
  sum_ += x;
  count_++;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bounds_[i], cum);
  }
  cum += counts_.back();
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, cum);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, sum_);
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_);
}

namespace {
// vLLM's buckets (v1/metrics/loggers.py).
std::vector<double> token_buckets() {
  std::vector<double> b;
  for (double x = 1; x <= 1e6; x *= 10) {
    b.push_back(x);
    b.push_back(2 * x);
    b.push_back(5 * x);
  }
  return b;
}
}  // namespace

ServerMetrics::ServerMetrics()
    : ttft_({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
             80.0, 160.0, 640.0, 2560.0}),
      itl_({0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}),
      e2e_({0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
            1920.0, 7680.0}),
      prompt_(token_buckets()),
      generation_(token_buckets()) {}

void ServerMetrics::first_token(double s) {
  std::lock_guard<std::mutex> lk(mu_);
  ttft_.observe(s);
}
void ServerMetrics::inter_token(double s) {
  std::lock_guard<std::mutex> lk(mu_);
  itl_.observe(s);
}
void ServerMetrics::finished(const std::string& reason, double e2e, int64_t prompt, int64_t gen) {
  std::lock_guard<std::mutex> lk(mu_);
  e2e_.observe(e2e);
  prompt_.observe(double(prompt));
  generation_.observe(double(gen));
  success_[reason]++;
}

std::string ServerMetrics::render(const std::string& model, const SchedulerStats& s) const {
  const std::string L = fmt::format("model_name=\"{}\"", model);
  std::string o;
  auto gauge = [&](const char* name, const char* help, double v) {
    o += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{}{{{}}} {}\n", name, help, name, name, L, v);
  };
  auto counter = [&](const char* name, const char* help, double v) {
    o += fmt::format("# HELP {}_total {}\n# TYPE {}_total counter\n{}_total{{{}}} {}\n", name, help, name, name, L, v);
  };
  gauge("vllm:num_requests_running", "Number of sequences in model execution batches.", double(s.running));
  gauge("vllm:num_requests_waiting", "Number of sequences waiting to be processed.", double(s.waiting));
  gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", s.kv_usage());
  counter("vllm:num_preemptions", "Cumulative number of preemptions.", double(s.preemptions));
  counter("vllm:prompt_tokens", "Number of prefill tokens processed.", double(s.prompt_tokens));
  counter("vllm:generation_tokens", "Number of generation tokens processed.", double(s.generation_tokens));
  counter("vllm:prefix_cache_queries", "Prompt tokens looked up in the prefix cache.", double(s.prefix_queries));
  counter("vllm:prefix_cache_hits", "Prompt tokens found in the prefix cache.", double(s.prefix_hits));
  std::lock_guard<std::mutex> lk(mu_);
  o += "# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n";
  for (const char* r : {"stop", "length", "abort", "tool_calls"}) {
    auto it = success_.find(r);
    o += fmt::format("vllm:request_success_total{{{},finished_reason=\"{}\"}} {}\n", L, r, it == success_.end() ? 0 : it->second);
  }
  auto hist = [&](const char* name, const char* help, const Histogram& h) {
    o += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    h.render(o, name, L);
  };
  hist("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttft_);
  hist("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itl_);
  hist("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", e2e_);
  hist("vllm:request_prompt_tokens", "Number of prefill tokens processed.", prompt_);
  hist("vllm:request_generation_tokens", "Number of generation tokens processed.", generation_);
  return o;
}

}  // namespace mixq::server
