// /metrics in Prometheus text format with vLLM's metric names (docs serving.md §4): every metric
// carries model_name, counters end in _total. Gauges and token counters come from the
// scheduler; request latencies are observed here by the HTTP side (time to first token from the
// request's arrival, as vLLM measures it).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/scheduler.h"

namespace mixq::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double x);
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (last = +Inf), not cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void first_token(double seconds_since_arrival);
  void inter_token(double seconds);
  void finished(const std::string& reason, double e2e_seconds, int64_t prompt_tokens, int64_t generation_tokens);
  std::string render(const std::string& model_name, const SchedulerStats& s) const;

 private:
  mutable std::mutex mu_;
  Histogram ttft_, itl_, e2e_, prompt_, generation_;
  std::map<std::string, uint64_t> success_;  // finished_reason -> count
};

}  // namespace mixq::server
