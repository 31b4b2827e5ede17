// The launch plan for a deployment: the `vllm serve` command line (tensor parallel size, the Ray
// executor only when the plan spans machines, eager mode on gfx1151, context and batch limits,
// memory utilization, MiniMax tool-call / reasoning parsers, generation-config override), the
// environment, the Ray head/worker commands when it spans machines, and the `mixq serve`
// equivalent for one machine. With a published card (plan/launch_card.h) the command and the
// environment are the card's, and mixq's own advice that differs from it goes to `suggestions`.
// Sources and the parts that could not be verified are listed in docs/plan.md.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "plan/device_presets.h"
#include "plan/launch_card.h"

namespace mixq {

// MiniMax's recommended sampling (minimax-m2.md §8): the server's defaults without a card.
inline constexpr const char* kMiniMaxGenerationOverride = R"({"temperature": 1.0, "top_p": 0.95, "top_k": 40})";

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
  const LaunchCard* card = nullptr;  // the published deployment whose flags and environment to use
  // Values the user chose; empty / 0: the card's, else mixq's defaults (0.0.0.0:8000, minimax_m2,
  // kMiniMaxGenerationOverride).
  std::string host, reasoning_parser, generation_override;
  int port = 0;
  // Limits the user gave on the command line: printed even with a card that leaves them to vLLM.
  bool max_model_len_given = false, max_num_seqs_given = false, max_num_batched_tokens_given = false;
};

// Something mixq would do differently from the card, or that the user may need: shown apart from
// the command, with its reason.
struct LaunchSuggestion {
  std::string what;  // "--host 0.0.0.0" or "export NAME=value"
  std::string why;
};

struct LaunchPlan {
  std::string source;                                      // "mixq" or the card's name
  std::vector<std::string> vllm_args;                      // argv, "vllm" first
  std::vector<std::pair<std::string, std::string>> env;    // NAME, value (placeholders in <>)
  std::vector<LaunchSuggestion> suggestions;
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
