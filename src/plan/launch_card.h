// The two published deployments (../shared/docs/published-deployments.md) as launch defaults for
// `mixq plan`: when a plan is for a card's recipe on the card's platform (or --launch-from-card
// names it), its `vllm serve` carries exactly the card's flags and environment, and what mixq
// would do differently is printed beside it as a labelled suggestion, never mixed in.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "plan/device_presets.h"

namespace mixq {

struct LaunchCard {
  std::string name;          // "strix-2h", "frankenquant"
  std::string title;         // the model card's name
  std::string recipe_file;   // recipes/<this>: plans for this recipe default to this card
  Platform platform = Platform::Cuda;
  std::string model;         // what the card serves ("" = the planned checkpoint's path)
  std::string served_model_name;  // "" = derived from the model/recipe name
  std::string host;          // "" = not on the card's command line (vLLM's default)
  int port = 0;              // 0 = not on the card's command line
  std::string tp_flag = "--tensor-parallel-size";  // the spelling the card uses
  bool scheduler_limits = true;  // the card sets --max-model-len / --max-num-seqs / --max-num-batched-tokens
  bool dtype_and_load_format = false;  // --dtype auto --load-format safetensors
  std::string reasoning_parser, generation_override;
  // The card's values of the plan's inputs (0: not given by the card).
  double utilization = 0;
  int64_t max_model_len = 0, max_num_seqs = 0, max_num_batched_tokens = 0;
  std::vector<std::pair<std::string, std::string>> env;
  // Conditional advice the card gives beside its command: {what to add, when}.
  std::vector<std::pair<std::string, std::string>> advice;
};

const std::vector<LaunchCard>& launch_cards();
const LaunchCard* find_launch_card(const std::string& name);  // nullptr when unknown
std::string launch_card_names();                              // "strix-2h, frankenquant"
// The card published with this recipe (matched on the file name), nullptr for any other recipe.
const LaunchCard* launch_card_for_recipe(const std::string& recipe_path);

}  // namespace mixq
