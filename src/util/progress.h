// A one-line progress bar with rate and ETA, drawn only on a terminal and never in CI.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace mixq {

class Progress {
 public:
  Progress(std::string label, uint64_t total, std::string unit = "");
  ~Progress();
  void advance(uint64_t n = 1);
  void set(uint64_t done);
  void finish();
  static bool enabled();

 private:
  void draw(bool force);
  std::string label_, unit_;
  uint64_t total_, done_ = 0;
  bool active_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string human_bytes(double bytes);     // "1.50 GiB"
std::string human_duration(double secs);   // "1h02m", "3m05s", "12s"

}  // namespace mixq
