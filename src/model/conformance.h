// Checks a checkpoint directory against the MiniMax-M2 tensor table: every missing, extra,
// mis-shaped or mis-typed tensor is reported (not just the first). MTP layers (index >=
// num_hidden_layers) are recognised and reported as information, not errors.
#pragma once
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"

namespace mixq {

struct Finding {
  enum Severity { Error, Info } severity = Error;
  std::string tensor;
  std::string message;
};

struct ConformanceReport {
  std::vector<Finding> findings;
  std::vector<int> mtp_layers;
  size_t errors() const;
  bool ok() const { return errors() == 0; }
};

ConformanceReport check_checkpoint(const Checkpoint& ck, const MiniMaxM2Config& cfg);

}  // namespace mixq
