// Where a forward call's wall time goes, phase by phase (mixq bench's per-phase table). Off unless
// ForwardOptions::phases points at a PhaseTimes: then the forward pass adds each phase's elapsed
// time to it (a clock read at both ends of a phase, about 20 per layer: negligible next to a
// decoded token's milliseconds). Phases run one after the other on the calling thread (each may
// fan out to the pool inside), so their times add up to the call's time minus "other" (embedding,
// norms, residual adds).
#pragma once
#include <array>
#include <chrono>
#include <cstddef>

namespace mixq {

enum class Phase { QkvProj, Attention, OProj, Router, Experts, LmHead };
inline constexpr size_t kPhaseCount = 6;

// JSON/table names, in Phase order. A contract of `mixq bench --json`.
inline constexpr std::array<const char*, kPhaseCount> kPhaseNames = {"qkv_proj", "attention", "o_proj",
                                                                     "router",   "experts",   "lm_head"};

struct PhaseTimes {
  std::array<double, kPhaseCount> seconds{};
  double& operator[](Phase p) { return seconds[size_t(p)]; }
  double operator[](Phase p) const { return seconds[size_t(p)]; }
};

// Adds the time from construction to destruction to `to`'s phase; does nothing when to is null.
class PhaseTimer {
 public:
  PhaseTimer(PhaseTimes* to, Phase p) : to_(to), p_(p) {
    if (to_) t0_ = std::chrono::steady_clock::now();
  }
  ~PhaseTimer() {
    if (to_) (*to_)[p_] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  PhaseTimes* to_;
  Phase p_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace mixq
