// `mixq validate DIR`: an independent conformance check of a compressed-tensors MiniMax-M2
// checkpoint (ours or anyone's) against the rules vLLM and compressed-tensors apply when loading
// (compressed-tensors-awq.md §1.5-§1.7, §2, §4.2, §7, §9). Every finding is reported, not just the
// first. It re-derives everything from the files: it shares the target matcher with the writer
// but not the plan, so a plan bug shows up as a finding.
#pragma once
#include <string>
#include <vector>

namespace mixq {

struct ValidationFinding {
  enum Severity { Error, Warning, Info } severity = Error;
  std::string where;    // tensor, module, config key or file
  std::string message;
};

struct ValidationReport {
  std::vector<ValidationFinding> findings;
  std::vector<int> servable_tp;  // of {1, 2, 4, 8}
  // Of servable_tp: sizes where vLLM's Marlin MoE kernel refuses the shard shape and it falls
  // back to a slower MoE kernel instead of refusing the checkpoint.
  std::vector<int> non_marlin_moe_tp;
  // What the serving side needs: the minimum vLLM and the GPU generations, one line each.
  std::vector<std::string> requirements;
  size_t modules_checked = 0, tensors_checked = 0;
  size_t errors() const;
  bool ok() const { return errors() == 0; }
};

ValidationReport validate_checkpoint(const std::string& dir);

}  // namespace mixq
