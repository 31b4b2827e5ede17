#include "plan/plan_report.h"

#include <fmt/format.h>

#include "plan/size_parse.h"

namespace mixq {

static std::string both(uint64_t b) { return fmt::format("{} B = {} = {}", with_commas(b), format_gib(b), format_gb(b)); }

std::string format_plan_report(const DeployPlan& p, bool mixq_serve_exists) {
  std::string s;
  auto line = [&]<typename... A>(fmt::format_string<A...> f, A&&... a) {
    s += fmt::format(f, std::forward<A>(a)...);
    s += '\n';
  };
  line("Deployment: {} on {} device(s) ({}), {} machine(s), tensor parallel {}{}, sizes from the {}",
       p.target == ServeTarget::Vllm ? "vLLM" : "mixq", p.devices,
       p.device_name, p.nodes, p.layout.tp, p.layout.expert_parallel ? " + expert parallel" : "", p.origin);
  line("");
  line("1. Weights");
  line("  {:<12} {:<11} {:>7} {:>19} {:>19}", "kind", "precision", "count", "bytes", "bytes per rank");
  for (const auto& r : p.rows)
    line("  {:<12} {:<11} {:>7} {:>19} {:>19}", r.kind, r.precision, with_commas(uint64_t(r.count)), with_commas(r.bytes),
         with_commas(r.rank_bytes));
  line("  total              {}", both(p.weights_bytes));
  line("  per rank           {}", both(p.weights_bytes_per_rank));
  if (p.file_bytes) line("  checkpoint files   {}", both(p.file_bytes));
  line("  per rank: {} q heads, {} kv head(s){}, expert intermediate {}, {} experts, {} vocab rows (padded {})", p.shard.q_heads,
       p.shard.kv_heads, p.shard.kv_replicas > 1 ? fmt::format(" x{} replicas", p.shard.kv_replicas) : "", p.shard.intermediate,
       p.shard.experts, p.shard.vocab_rows, p.shard.vocab_padded);
  line("");
  line("2. KV cache ({})", p.kv_dtype_bytes == 1 ? "fp8" : "bf16");
  line("  per token          {} B ({} B per rank)", with_commas(p.kv_bytes_per_token), with_commas(p.kv_bytes_per_token_rank));
  line("  one sequence at {} tokens  {}", with_commas(uint64_t(p.max_model_len)), both(p.kv_bytes_at_max_model_len));
  if (p.max_num_seqs > 1)
    line("  {} sequences at {} tokens  {}", p.max_num_seqs, with_commas(uint64_t(p.max_model_len)), both(p.kv_bytes_at_max_num_seqs));
  if (p.has_budget) {
    const auto& b = p.budget;
    line("  memory per rank: exposed {} x utilization {} = {}", format_gib(b.exposed), format_fraction(b.utilization), format_gib(b.usable));
    line("    - weights {}  - activation reserve {}  - runtime reserve {}", format_gib(b.weights), format_gib(b.activation),
         format_gib(b.runtime_reserve));
    line("    = KV cache {} = {} blocks of {} tokens", format_gib(uint64_t(b.kv_memory)), b.blocks, b.block_size);
    line("  context ceiling, one sequence:   {} tokens", with_commas(uint64_t(p.max_context_one_sequence)));
    if (p.max_num_seqs > 1)
      line("  context ceiling, {} sequences:    {} tokens each", p.max_num_seqs, with_commas(uint64_t(p.max_context_per_sequence)));
  }
  if (!p.fits) {
    line("  DOES NOT FIT: {}", p.fit_problem);
    for (const auto& f : p.fit_options)
      line("  would fit with {} (context ceiling {} tokens)", f.change, with_commas(uint64_t(f.max_context_one_sequence)));
  }
  line("");
  line("3. Decode speed ceiling (batch 1)");
  line("  bytes read per token per rank: {} weights (attention {}, experts {}, lm_head {}, router {}) + {} B x context",
       format_gb(p.read.weights()), format_gb(p.read.attention), format_gb(p.read.experts), format_gb(p.read.lm_head),
       format_gb(p.read.router), with_commas(p.read.kv_per_context_token));
  if (p.bandwidth > 0) {
    line("  at {:.0f} GB/s per device: {:.1f} tok/s at context {}, {:.1f} tok/s at {}", p.bandwidth / 1e9, p.decode_tokens_per_s,
         with_commas(uint64_t(p.decode_context)), p.decode_tokens_per_s_at_max_model_len, with_commas(uint64_t(p.max_model_len)));
    line("  (a physical limit; tuned engines reach ~50-65% of it, and TP adds interconnect time)");
  }
  line("");
  if (p.launch.source == "mixq") line("4. Launch (mixq's defaults)");
  else line("4. Launch (the published {} card's command and environment; --launch-from-card none for mixq's defaults)", p.launch.source);
  if (!p.launch.env.empty()) {
    line("  environment (every node):");
    for (const auto& [k, v] : p.launch.env) line("    export {}={}", k, v);
  }
  if (!p.launch.ray_head.empty()) {
    line("  Ray head (machine 1):    {}", p.launch.ray_head);
    line("  Ray worker (each other): {}", p.launch.ray_worker);
  }
  line("  vLLM (on the head machine):");
  std::string cmd = p.launch.vllm_command_multiline();
  for (size_t i = 0; (i = cmd.find('\n', i)) != std::string::npos; i += 3) cmd.insert(i + 1, "  ");
  line("    {}", cmd);
  if (!p.launch.suggestions.empty()) {
    line("  mixq suggests, beside the card (each optional, with its reason):");
    for (const auto& g : p.launch.suggestions) line("    {}    # {}", g.what, g.why);
  }
  line("  mixq (one machine{}):", mixq_serve_exists ? "" : "; `mixq serve` is planned and not in this build yet");
  line("    {}", p.launch.mixq_command());
  if (!p.notes.empty()) {
    line("");
    for (const auto& n : p.notes) line("note: {}", n);
  }
  return s;
}

}  // namespace mixq
