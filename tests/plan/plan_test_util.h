// Shared fixtures for tests/plan: the MiniMax-M2.7 config from ../shared (the published values).
#pragma once
#include <string>

#include "model/minimax_m2_config.h"

namespace mixq::plantest {

inline std::string m27_config_path() { return std::string(MIXQ_SHARED_DIR) + "/configs/minimax-m2.7/config.json"; }
inline std::string strix_recipe_path() { return std::string(MIXQ_SHARED_DIR) + "/recipes/minimax-m2.7-awq-g32-strix-2h.yaml"; }
inline const MiniMaxM2Config& m27() {
  static const MiniMaxM2Config c = load_minimax_m2_config(m27_config_path());
  return c;
}

}  // namespace mixq::plantest
