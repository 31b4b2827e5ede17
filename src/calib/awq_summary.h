// The terminal summary of an AWQ quality report (awq_report.json, AwqPipeline::report()), printed
// at the end of `mixq quantize`: one row per layer and mapping with the chosen ratio and the loss
// before (identity scales) and after (chosen scales). The norm mapping gets its own row; the
// per-expert w3 -> w2 mappings (256 per layer at real size) are folded into one row per layer:
// the ratio range and median, and the losses summed over the experts. The full per-expert detail
// stays in the JSON. An "end_to_end" entry (quantize --eval-text/--eval-gsm8k) adds the KLD line.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace mixq::calib {

std::string format_awq_summary(const nlohmann::ordered_json& report);

// One line for an end-to-end comparison in `mixq eval kld --json` form (mean KLD, top-1, per source).
std::string format_kld_line(const nlohmann::ordered_json& kld);

}  // namespace mixq::calib
