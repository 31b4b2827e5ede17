#include "calib/awq_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "util/number_format.h"

namespace mixq::calib {
namespace {

using Json = nlohmann::ordered_json;

double num(const Json& j, const char* key) { return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0; }

// "0.89x" (chosen / identity); "-" when the identity loss is zero (nothing to reduce).
std::string loss_ratio(double identity, double best) { return identity > 0 ? fmt::format("{:.3f}x", best / identity) : "-"; }

// Not searched: skipped by the mapping resolution (e.g. STRIX-2H's BF16 carve-out: no quantized
// layer in the set, so the layer is not smoothed) or no tokens routed to the expert.
bool skipped(const Json& m) { return !m.is_object() || m.value("skipped", false) || !m.contains("ratio"); }

std::string norm_row(const Json& m) {
  if (skipped(m)) return "skipped (not smoothed)";
  const double id = num(m, "loss_identity"), best = num(m, "loss_best");
  return fmt::format("{:<13} {:>11.4e} -> {:<10.4e} {:>7}", fmt::format("{:.2f}{}", num(m, "ratio"), m.value("duo", false) ? " duo" : ""),
                     id, best, loss_ratio(id, best));
}

std::string experts_row(const Json& maps) {
  std::vector<double> ratios;
  double id = 0, best = 0;
  int n_skipped = 0;
  for (const auto& m : maps) {
    if (skipped(m)) { ++n_skipped; continue; }
    ratios.push_back(num(m, "ratio"));
    id += num(m, "loss_identity");
    best += num(m, "loss_best");
  }
  if (ratios.empty()) return "skipped (not smoothed)";
  std::string skip = n_skipped ? fmt::format(", {} skipped", n_skipped) : "";
  std::sort(ratios.begin(), ratios.end());
  const double median = ratios[ratios.size() / 2];
  return fmt::format("{:<13} {:>11.4e} -> {:<10.4e} {:>7}  ratio median {:.2f}{}",
                     fmt::format("{:.2f}..{:.2f}", ratios.front(), ratios.back()), id, best, loss_ratio(id, best), median, skip);
}

}  // namespace

std::string format_kld_line(const Json& k) {
  std::string s = fmt::format("{} positions, mean KLD {:.6f}, top-1 agreement {:.4f}", int64_t(num(k, "positions")), num(k, "mean_kld"),
                              num(k, "top1_agreement"));
  if (k.contains("by_source") && k["by_source"].is_object())
    for (auto it = k["by_source"].begin(); it != k["by_source"].end(); ++it)
      s += fmt::format("; {} {:.6f} / {:.4f}", it.key(), num(it.value(), "mean_kld"), num(it.value(), "top1_agreement"));
  return s;
}

std::string format_awq_summary(const Json& r) {
  std::string s = fmt::format("AWQ: {} calibration tokens in {} sequences; {}\n", with_commas(uint64_t(num(r, "calibration_tokens"))),
                              int64_t(num(r, "calibration_sequences")), r.value("transform", std::string("awq")));
  // Loss "identity" is the mapping's output loss with scales 1 (plain RTN), "chosen" at the grid
  // point picked; "change" is chosen / identity.
  s += fmt::format("{:>5}  {:<27} {:<13} {:<25} {:>7}  {}\n", "layer", "mapping", "ratio", "  loss identity -> chosen", "change",
                   "routing change compensated (uncompensated)");
  for (const auto& l : r.value("layers", Json::array())) {
    const int layer = int(num(l, "layer"));
    const Json norm = l.value("norm_mapping", Json());
    const std::string routing =
        skipped(norm) ? "" : fmt::format("  {:.4f} ({:.4f})", num(l, "routing_change_compensated"), num(l, "routing_change_uncompensated"));
    s += fmt::format("{:>5}  {:<27} {}{}\n", layer, "post_attention_layernorm", norm_row(norm), routing);
    const Json w2 = l.value("w3_w2_mappings", Json::array());
    s += fmt::format("{:>5}  {:<27} {}\n", "", fmt::format("w3 -> w2 ({} experts)", w2.size()), experts_row(w2));
  }
  if (r.contains("end_to_end")) s += "end to end vs the source (mixq eval kld): " + format_kld_line(r["end_to_end"]) + "\n";
  return s;
}

}  // namespace mixq::calib
