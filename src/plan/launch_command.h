// The launch plan for a deployment: the `vllm serve` command line with the flags of the published
// STRIX-2H deployment (tensor parallel size, Ray executor, eager mode on gfx1151, context and batch
// limits, memory utilization, MiniMax tool-call / reasoning parsers, generation-config override),
// the environment it needs (the STRIX-2H deployment's gfx1151 block on Strix Halo), the Ray
// head/worker commands when it spans machines, and the `mixq serve` equivalent for one machine.
// Sources and the parts that could not be verified against the card are listed in docs/plan.md.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "plan/device_presets.h"

namespace mixq {

struct LaunchOptions {
  std::string model;               // what vllm serve loads (directory or hub id)
  std::string served_model_name;   // empty: none
  int tp = 1;
  bool expert_parallel = false;
  int nodes = 1;                   // machines; > 1 -> Ray
  int devices_per_node = 1;
  int64_t max_model_len = 0, max_num_seqs = 0, max_num_batched_tokens = 0;
  double gpu_memory_utilization = 0.9;
  std::string kv_cache_dtype = "auto";  // "auto" (model dtype) or "fp8"
  Platform platform = Platform::Cuda;
  bool has_w4a16 = false;          // compressed-tensors WNA16 layers present
  bool unified = false;            // APU (Strix Halo gfx1151): its ROCm environment block applies
  bool enforce_eager = false;      // no CUDA/HIP graphs
  std::string reasoning_parser = "minimax_m2";
  std::string host = "0.0.0.0";
  int port = 8000;
};

struct LaunchPlan {
  std::vector<std::string> vllm_args;                      // argv, "vllm" first
  std::vector<std::pair<std::string, std::string>> env;    // NAME, value (placeholders in <>)
  std::string ray_head, ray_worker;                        // empty for one machine
  std::vector<std::string> mixq_args;                      // argv, "mixq" first
  std::string vllm_command() const;                        // one line, shell-quoted
  std::string vllm_command_multiline() const;              // one flag per line with "\"
  std::string mixq_command() const;
};

LaunchPlan make_launch_plan(const LaunchOptions& o);

std::string shell_quote(const std::string& s);  // as-is when safe, else single-quoted
// "MiniMax-M2.7-AWQ-G32-STRIX-2H" -> "minimax-m2-7-awq-g32-strix-2h" (the card's served name rule).
std::string served_name_from(const std::string& path_or_name);
// The %g-style shortest text of a utilization (0.92 -> "0.92").
std::string format_fraction(double v);

}  // namespace mixq
