#include "quant/plan_report.h"

#include <fmt/format.h>

namespace mixq {

std::string format_plan(const QuantPlan& p, size_t max_list) {
  std::string o;
  o += fmt::format("{:<13} {:<11} {:>9} {:>19} {:>19} {:>8}\n", "module kind", "precision", "count", "parameters", "bytes", "share");
  for (const auto& r : p.rows)
    o += fmt::format("{:<13} {:<11} {:>9} {:>19} {:>19} {:>7.2f}%\n", r.kind, r.precision, with_commas(uint64_t(r.count)),
                     with_commas(uint64_t(r.parameters)), with_commas(r.bytes), 100.0 * double(r.bytes) / double(std::max<uint64_t>(1, p.tensor_bytes)));
  o += fmt::format("\ntensor data:     {:>19} bytes in {} tensors\n", with_commas(p.tensor_bytes), p.specs.size());
  o += fmt::format("headers:         {:>19} bytes ({} shard(s))\n", with_commas(p.header_bytes), p.num_shards);
  o += fmt::format("predicted size:  {:>19} bytes ({:.2f} GB, {:.2f} GiB)\n", with_commas(p.predicted_bytes), double(p.predicted_bytes) / 1e9,
                   double(p.predicted_bytes) / double(1ull << 30));
  o += fmt::format("format:          {} ({} config group(s), {} ignore entries)\n", p.global_format(), p.groups.size(), p.ignore.size());
  for (size_t g = 0; g < p.groups.size(); ++g)
    o += fmt::format("  group_{}: {} targets {}\n", g, p.groups[g].format, fmt::join(p.groups[g].targets, " "));
  if (p.unmatched.empty()) {
    o += "\nevery Linear is matched by a target or ignored\n";
  } else {
    o += fmt::format("\n{} Linear(s) neither matched nor ignored (kept unquantized, listed in the output ignore):\n", p.unmatched.size());
    for (size_t i = 0; i < p.unmatched.size() && i < max_list; ++i) o += "  " + p.unmatched[i] + "\n";
    if (p.unmatched.size() > max_list) o += fmt::format("  ... and {} more (--json lists all)\n", p.unmatched.size() - max_list);
  }
  for (const auto& w : p.warnings) o += "warning: " + w + "\n";
  return o;
}

}  // namespace mixq
