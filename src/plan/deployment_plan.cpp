#include "plan/deployment_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "plan/size_parse.h"
#include "util/error.h"

namespace mixq {

namespace {

constexpr uint64_t kDefaultRuntimeReserve = kGiB + kGiB / 2;  // discrete GPU, see docs/plan.md

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

void check_options(const MiniMaxM2Config& cfg, const DeployOptions& o) {
  if (o.devices < 1) fail("--devices must be at least 1, not {}", o.devices);
  if (!(o.utilization > 0 && o.utilization <= 1))
    fail("--gpu-memory-utilization must be in (0, 1], not {}", o.utilization);
  if (o.max_num_seqs < 1) fail("--max-num-seqs must be at least 1, not {}", o.max_num_seqs);
  if (o.max_model_len < 0) fail("--max-model-len must be positive, not {}", o.max_model_len);
  if (o.max_model_len > cfg.max_position_embeddings)
    fail("--max-model-len {} exceeds the model's max_position_embeddings {} (vLLM refuses it)", o.max_model_len,
         cfg.max_position_embeddings);
  if (o.max_num_batched_tokens < o.max_num_seqs)
    fail("--max-num-batched-tokens {} must be at least --max-num-seqs {}", o.max_num_batched_tokens, o.max_num_seqs);
  if (o.kv_cache_dtype != "bf16" && o.kv_cache_dtype != "fp8")
    fail("--kv-cache-dtype must be bf16 or fp8, not '{}'", o.kv_cache_dtype);
  if (o.decode_context < 0) fail("--decode-context must not be negative");
  if (o.devices_per_node > 0 && o.devices % o.devices_per_node != 0 && o.devices > o.devices_per_node)
    fail("--devices {} is not a whole number of machines of {} devices", o.devices, o.devices_per_node);
}

DeployPlan make_deploy_plan_impl(const MiniMaxM2Config& cfg, const WeightInventory& inv, const DeployOptions& o);

// What would make a plan that does not fit, fit: each change alone, found by planning again.
std::vector<FitOption> fit_options(const MiniMaxM2Config& cfg, const WeightInventory& inv, const DeployOptions& o,
                                   const DeployPlan& p) {
  std::vector<FitOption> out;
  auto replan = [&](DeployOptions x) -> std::optional<DeployPlan> {
    x.explore_fit = false;
    try {
      DeployPlan q = make_deploy_plan_impl(cfg, inv, x);
      if (q.fits) return q;
    } catch (const InputError&) {  // e.g. a TP size the heads cannot split
    }
    return std::nullopt;
  };
  // The weights fit: the context the cache holds is the longest max-model-len that fits.
  if (p.max_context_one_sequence > 0)
    out.push_back({fmt::format("--max-model-len {}", p.max_context_one_sequence), p.max_context_one_sequence});
  if (o.kv_cache_dtype != "fp8") {
    DeployOptions x = o;
    x.kv_cache_dtype = "fp8";
    if (auto q = replan(x)) out.push_back({"--kv-cache-dtype fp8", q->max_context_one_sequence});
  }
  if (o.target == ServeTarget::Vllm) {
    for (int d = o.devices + 1; d <= std::max(64, o.devices * 2); ++d) {
      DeployOptions x = o;
      x.devices = d;
      if (x.devices_per_node > 0 && d > x.devices_per_node && d % x.devices_per_node) continue;
      if (auto q = replan(x)) {
        out.push_back({fmt::format("--devices {}", d), q->max_context_one_sequence});
        break;
      }
    }
  }
  return out;
}

}  // namespace

DeployPlan make_deploy_plan(const MiniMaxM2Config& cfg, const WeightInventory& inv, const DeployOptions& o) {
  return make_deploy_plan_impl(cfg, inv, o);
}

namespace {
DeployPlan make_deploy_plan_impl(const MiniMaxM2Config& cfg, const WeightInventory& inv, const DeployOptions& o) {
  check_options(cfg, o);
  DeployPlan p;
  p.origin = inv.origin;
  p.target = o.target;
  p.devices = o.devices;
  p.device_name = o.device ? o.device->name : "custom";
  // Without a preset, all devices are taken to sit in one machine (no Ray across machines).
  p.devices_per_node = o.devices_per_node > 0 ? o.devices_per_node : (o.device ? o.device->devices_per_node : o.devices);
  p.devices_per_node = std::min(p.devices_per_node, o.devices);
  p.nodes = (o.devices + p.devices_per_node - 1) / p.devices_per_node;
  // mixq serves on one machine without tensor parallelism: the whole model in one memory pool.
  p.layout.tp = o.target == ServeTarget::Vllm ? o.devices : 1;
  p.layout.expert_parallel = o.expert_parallel && o.target == ServeTarget::Vllm;
  if (o.target == ServeTarget::Mixq && p.nodes > 1)
    fail("--target mixq serves on one machine; {} devices of {} per machine span {} machines", o.devices, p.devices_per_node, p.nodes);

  if (auto probs = tp_problems(cfg, inv, p.layout); !probs.empty())
    fail("TP={} cannot serve this checkpoint: {}", p.layout.tp, join(probs, "; "));
  p.shard = shard_shape(cfg, p.layout);

  // 1. Weights, per precision class.
  std::map<std::pair<std::string, std::string>, PrecisionRow> rows;
  for (const auto& m : inv.modules) {
    const std::string kind = kind_name(kind_of(m.role));
    auto& r = rows[{kind, m.precision}];
    r.kind = kind;
    r.precision = m.precision;
    r.count += 1;
    r.bytes += m.bytes;
    r.rank_bytes += rank_bytes(m, cfg, p.shard, p.layout);
  }
  for (auto& [k, r] : rows) {
    p.rows.push_back(r);
    p.weights_bytes += r.bytes;
    p.weights_bytes_per_rank += r.rank_bytes;
  }
  p.file_bytes = inv.file_bytes;

  // 2. KV cache.
  p.kv_dtype_bytes = o.kv_cache_dtype == "fp8" ? 1 : 2;
  p.max_position_embeddings = cfg.max_position_embeddings;
  p.max_model_len = o.max_model_len > 0 ? o.max_model_len : cfg.max_position_embeddings;
  p.max_num_seqs = o.max_num_seqs;
  p.max_num_batched_tokens = o.max_num_batched_tokens;
  p.kv_bytes_per_token = kv_bytes_per_token(cfg, p.kv_dtype_bytes);
  p.kv_bytes_per_token_rank = kv_bytes_per_token_rank(cfg, p.shard, p.kv_dtype_bytes);
  p.kv_bytes_at_max_model_len = p.kv_bytes_per_token * uint64_t(p.max_model_len);
  p.kv_bytes_at_max_num_seqs = p.kv_bytes_at_max_model_len * uint64_t(p.max_num_seqs);

  const uint64_t device_memory = o.device_memory ? o.device_memory : (o.device ? o.device->memory_bytes : 0);
  if (device_memory && !o.device)
    p.notes.push_back("no device preset: the runtime is taken to expose all of --device-memory, with a 1.5 GiB runtime reserve "
                      "(discrete GPU); unified-memory machines expose less (--device strix-halo, --exposed-memory)");
  if (device_memory) {
    uint64_t exposed = o.exposed_memory;
    if (!exposed) {
      // A unified-memory preset exposes its physical memory minus what the OS keeps (GTT limit).
      const uint64_t hidden = o.device ? o.device->memory_bytes - o.device->exposed_bytes : 0;
      if (hidden >= device_memory) fail("--device-memory {} is smaller than the {} the OS keeps on {}", format_gib(device_memory), format_gib(hidden), p.device_name);
      exposed = device_memory - hidden;
    }
    if (exposed > device_memory) fail("--exposed-memory {} exceeds --device-memory {}", format_gib(exposed), format_gib(device_memory));
    // mixq on one machine pools all of its devices' memory.
    const uint64_t pool = o.target == ServeTarget::Mixq ? exposed * uint64_t(o.devices) : exposed;
    const uint64_t reserve = o.runtime_reserve ? *o.runtime_reserve
                             : o.target == ServeTarget::Mixq ? 0
                             : o.device ? o.device->runtime_reserve : kDefaultRuntimeReserve;
    const uint64_t activation = o.activation_reserve ? *o.activation_reserve
                                : activation_peak_bytes(cfg, p.shard, o.max_num_batched_tokens, o.max_num_seqs);
    p.has_budget = true;
    p.budget = kv_budget(pool, o.utilization, p.weights_bytes_per_rank, activation, reserve, p.kv_bytes_per_token_rank);
    const auto& b = p.budget;
    if (b.kv_memory <= 0 || b.blocks == 0) {
      p.fits = false;
      p.fit_problem = fmt::format("does not fit: {} x {} at utilization {} gives {} per rank, but weights take {} and the reserve {} (activation {} + runtime {})",
           o.devices, format_gib(device_memory), format_fraction(o.utilization), format_gib(b.usable), format_gib(b.weights),
           format_gib(b.activation + b.runtime_reserve), format_gib(b.activation), format_gib(b.runtime_reserve));
    }
    p.max_context_one_sequence = b.tokens();
    p.max_context_per_sequence = b.tokens_per_sequence(o.max_num_seqs);
    if (p.fits && p.max_context_one_sequence < p.max_model_len) {
      p.fits = false;
      p.fit_problem = fmt::format("does not fit: --max-model-len {} needs {} of KV per rank but only {} is left after weights and reserve; the ceiling is {} tokens",
           p.max_model_len, format_gib(p.kv_bytes_per_token_rank * uint64_t(p.max_model_len)), format_gib(uint64_t(b.kv_memory)),
           with_commas(uint64_t(p.max_context_one_sequence)));
    }
    if (p.fits && p.max_context_per_sequence < p.max_model_len)
      p.notes.push_back(fmt::format("{} sequences at max-model-len {} need {} tokens of KV; the cache holds {}, so vLLM will queue or preempt",
                                    p.max_num_seqs, with_commas(uint64_t(p.max_model_len)),
                                    with_commas(uint64_t(p.max_model_len * p.max_num_seqs)),
                                    with_commas(uint64_t(p.max_context_one_sequence))));
    if (p.max_context_one_sequence > cfg.max_position_embeddings)
      p.notes.push_back(fmt::format("the memory ceiling {} tokens exceeds the model's max_position_embeddings {}",
                                    with_commas(uint64_t(p.max_context_one_sequence)), with_commas(uint64_t(cfg.max_position_embeddings))));
  } else {
    p.notes.push_back("no --device-memory or --device: memory budget and context ceiling not computed");
  }

  if (!p.fits && o.explore_fit) p.fit_options = fit_options(cfg, inv, o, p);

  // 3. Decode speed ceiling.
  p.read = decode_read_per_rank(cfg, inv, p.shard, p.layout, p.kv_bytes_per_token_rank);
  p.bandwidth = o.bandwidth > 0 ? o.bandwidth : (o.device ? o.device->bandwidth : 0);
  p.decode_context = o.decode_context;
  if (p.bandwidth > 0) {
    p.decode_tokens_per_s = decode_tokens_per_s(p.read, o.decode_context, p.bandwidth);
    p.decode_tokens_per_s_at_max_model_len = decode_tokens_per_s(p.read, p.max_model_len, p.bandwidth);
  } else {
    p.notes.push_back("no --bandwidth or --device: decode speed ceiling not computed");
  }

  // 4. Launch.
  LaunchOptions l;
  l.model = o.model_for_command.empty() ? "<checkpoint dir>" : o.model_for_command;
  l.served_model_name = o.served_model_name;
  l.tp = p.layout.tp;
  l.expert_parallel = p.layout.expert_parallel;
  l.nodes = p.nodes;
  l.devices_per_node = p.devices_per_node;
  l.max_model_len = p.max_model_len;
  l.max_num_seqs = p.max_num_seqs;
  l.max_num_batched_tokens = p.max_num_batched_tokens;
  l.gpu_memory_utilization = o.utilization;
  l.kv_cache_dtype = o.kv_cache_dtype == "fp8" ? "fp8" : "auto";
  l.platform = o.device ? o.device->platform : Platform::Cuda;
  l.unified = o.device && o.device->unified;
  l.enforce_eager = o.enforce_eager.value_or(o.device && o.device->enforce_eager);
  l.card = o.card;
  l.reasoning_parser = o.reasoning_parser;
  l.host = o.host;
  l.port = o.port;
  l.generation_override = o.generation_override;
  l.max_model_len_given = o.max_model_len_given;
  l.max_num_seqs_given = o.max_num_seqs_given;
  l.max_num_batched_tokens_given = o.max_num_batched_tokens_given;
  l.has_w4a16 = std::any_of(inv.modules.begin(), inv.modules.end(), [](const ModuleBytes& m) { return m.stored == StoredAs::Int4Group; });
  p.launch = make_launch_plan(l);
  return p;
}

}  // namespace

nlohmann::json DeployPlan::to_json() const {
  using nlohmann::json;
  json j;
  j["origin"] = origin;
  j["target"] = target == ServeTarget::Vllm ? "vllm" : "mixq";
  j["device"] = device_name;
  j["tensor_parallel_size"] = layout.tp;
  j["expert_parallel"] = layout.expert_parallel;
  j["devices"] = devices;
  j["nodes"] = nodes;
  j["devices_per_node"] = devices_per_node;
  j["weights_bytes"] = weights_bytes;
  j["weights_bytes_per_rank"] = weights_bytes_per_rank;
  j["checkpoint_file_bytes"] = file_bytes ? json(file_bytes) : json(nullptr);
  j["weights_by_precision"] = json::array();
  for (const auto& r : rows)
    j["weights_by_precision"].push_back(
        {{"kind", r.kind}, {"precision", r.precision}, {"count", r.count}, {"bytes", r.bytes}, {"bytes_per_rank", r.rank_bytes}});
  j["shard"] = {{"q_heads_per_rank", shard.q_heads}, {"kv_heads_per_rank", shard.kv_heads}, {"kv_head_replicas", shard.kv_replicas},
                {"expert_intermediate_per_rank", shard.intermediate}, {"experts_per_rank", shard.experts},
                {"vocab_padded", shard.vocab_padded}, {"vocab_rows_per_rank", shard.vocab_rows}};
  j["kv_cache_dtype"] = kv_dtype_bytes == 1 ? "fp8" : "bf16";
  j["max_model_len"] = max_model_len;
  j["max_num_seqs"] = max_num_seqs;
  j["max_num_batched_tokens"] = max_num_batched_tokens;
  j["max_position_embeddings"] = max_position_embeddings;
  j["kv_bytes_per_token"] = kv_bytes_per_token;
  j["kv_bytes_per_token_per_rank"] = kv_bytes_per_token_rank;
  j["kv_bytes_at_max_model_len"] = kv_bytes_at_max_model_len;
  j["kv_bytes_at_max_num_seqs"] = kv_bytes_at_max_num_seqs;
  if (has_budget) {
    j["memory_budget_per_rank"] = {{"exposed_bytes", budget.exposed},
                                   {"gpu_memory_utilization", budget.utilization},
                                   {"usable_bytes", budget.usable},
                                   {"weights_bytes", budget.weights},
                                   {"activation_reserve_bytes", budget.activation},
                                   {"runtime_reserve_bytes", budget.runtime_reserve},
                                   {"kv_cache_bytes", budget.kv_memory},
                                   {"kv_blocks", budget.blocks},
                                   {"block_size", budget.block_size}};
    j["max_context_one_sequence"] = max_context_one_sequence;
    j["max_context_per_sequence"] = max_context_per_sequence;
  } else {
    j["memory_budget_per_rank"] = nullptr;
    j["max_context_one_sequence"] = nullptr;
    j["max_context_per_sequence"] = nullptr;
  }
  j["decode_bytes_per_token_per_rank"] = {{"attention", read.attention}, {"norms", read.norms}, {"router", read.router},
                                          {"experts_active", read.experts}, {"lm_head", read.lm_head},
                                          {"embedding_row", read.embedding}, {"weights_total", read.weights()},
                                          {"kv_per_context_token", read.kv_per_context_token}};
  j["decode_context"] = decode_context;
  j["bandwidth_bytes_per_s"] = bandwidth > 0 ? json(bandwidth) : json(nullptr);
  j["decode_tokens_per_s_ceiling"] = bandwidth > 0 ? json(decode_tokens_per_s) : json(nullptr);
  j["decode_tokens_per_s_ceiling_at_max_model_len"] = bandwidth > 0 ? json(decode_tokens_per_s_at_max_model_len) : json(nullptr);
  j["fits"] = fits;
  j["fit_problem"] = fits ? json(nullptr) : json(fit_problem);
  j["fit_options"] = json::array();
  for (const auto& f : fit_options) j["fit_options"].push_back({{"change", f.change}, {"max_context_one_sequence", f.max_context_one_sequence}});
  j["launch_source"] = launch.source;
  j["vllm_command"] = launch.vllm_command();
  j["vllm_argv"] = launch.vllm_args;
  j["environment"] = json::object();
  for (const auto& [k, v] : launch.env) j["environment"][k] = v;
  j["ray_head_command"] = launch.ray_head.empty() ? json(nullptr) : json(launch.ray_head);
  j["ray_worker_command"] = launch.ray_worker.empty() ? json(nullptr) : json(launch.ray_worker);
  j["suggestions"] = json::array();
  for (const auto& g : launch.suggestions) j["suggestions"].push_back({{"what", g.what}, {"why", g.why}});
  j["mixq_command"] = launch.mixq_command();
  j["mixq_argv"] = launch.mixq_args;
  j["notes"] = notes;
  return j;
}

}  // namespace mixq
