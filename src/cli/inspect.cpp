// mixq inspect DIR | FILE.gguf | --config-only FILE [--json]
// A GGUF file (cli/inspect_gguf.h): its metadata and tensors per class and ggml type.
// Per precision class (module kind x storage): count, parameters, bytes; totals; active parameters
// per token; conformance problems against the MiniMax-M2 tensor table.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/inspect_gguf.h"
#include "io/checkpoint.h"
#include "model/conformance.h"
#include "model/minimax_m2_config.h"
#include "model/model_summary.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/number_format.h"

namespace {

using mixq::with_commas;

struct Opts {
  std::string dir, config_only;
  bool json = false;
};

void print_table(const mixq::ModelSummary& s) {
  fmt::print("{:<13} {:<11} {:>9} {:>19} {:>19} {:>8}\n", "module kind", "storage", "count", "parameters", "bytes", "share");
  for (const auto& c : s.classes)
    fmt::print("{:<13} {:<11} {:>9} {:>19} {:>19} {:>7.2f}%\n", c.kind, c.storage, with_commas(uint64_t(c.count)),
               with_commas(uint64_t(c.parameters)), with_commas(c.bytes), 100.0 * double(c.bytes) / double(std::max<uint64_t>(1, s.total_bytes)));
  fmt::print("{:<13} {:<11} {:>9} {:>19} {:>19}\n", "total", "", "", with_commas(uint64_t(s.total_parameters)), with_commas(s.total_bytes));
  fmt::print("\ntotal parameters:  {} ({})\n", with_commas(uint64_t(s.total_parameters)), mixq::short_count(uint64_t(s.total_parameters)));
  fmt::print("active per token:  {} ({}; excl. embedding and lm_head)\n", with_commas(uint64_t(s.active_parameters)),
             mixq::short_count(uint64_t(s.active_parameters)));
  fmt::print("stored bytes:      {} ({:.2f} GB, {:.2f} GiB)\n", with_commas(s.total_bytes), double(s.total_bytes) / 1e9,
             double(s.total_bytes) / double(1ull << 30));
}

nlohmann::json to_json(const mixq::ModelSummary& s, const mixq::MiniMaxM2Config& cfg) {
  nlohmann::json j;
  j["total_parameters"] = s.total_parameters;
  j["active_parameters"] = s.active_parameters;
  j["total_bytes"] = s.total_bytes;
  j["classes"] = nlohmann::json::array();
  for (const auto& c : s.classes)
    j["classes"].push_back({{"kind", c.kind}, {"storage", c.storage}, {"count", c.count}, {"parameters", c.parameters}, {"bytes", c.bytes}});
  j["parameter_counts"] = {{"embedding", s.counts.embed}, {"lm_head", s.counts.lm_head}, {"per_layer", s.counts.per_layer},
                           {"per_expert", s.counts.per_expert}, {"attention_per_layer", s.counts.attention_per_layer}};
  j["config"] = {{"num_hidden_layers", cfg.num_hidden_layers}, {"hidden_size", cfg.hidden_size},
                 {"num_local_experts", cfg.num_local_experts}, {"num_experts_per_tok", cfg.num_experts_per_tok},
                 {"vocab_size", cfg.vocab_size}};
  return j;
}

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("dir", o->dir, "Model directory (config.json + safetensors), a .safetensors file or a .gguf file");
  app.add_option("--config-only", o->config_only, "Only a config.json: predict sizes without weights");
  app.add_flag("--json", o->json, "Machine-readable output");
  return [o]() -> int {
    using namespace mixq;
    if (o->dir.empty() == o->config_only.empty()) fail("inspect: give a model directory or --config-only FILE");
    if (!o->config_only.empty()) {
      auto cfg = load_minimax_m2_config(o->config_only);
      auto s = summarize_config(cfg);
      if (o->json) {
        auto j = to_json(s, cfg);
        j["source"] = "config";
        std::cout << j.dump(2) << "\n";
      } else {
        fmt::print("{} (config only; storage implied by its quantization_config)\n\n", o->config_only);
        print_table(s);
      }
      return 0;
    }
    if (cli::looks_like_gguf(o->dir)) return cli::inspect_gguf(o->dir, o->json);
    Checkpoint ck(o->dir);
    if (!ck.has_config()) fail("{}: no config.json", o->dir);
    auto cfg = load_minimax_m2_config(ck.config_path());
    auto rep = check_checkpoint(ck, cfg);
    ModelSummary s;
    bool summarized = rep.ok();
    if (summarized) s = summarize_checkpoint(ck, cfg);
    if (o->json) {
      nlohmann::json j = summarized ? to_json(s, cfg) : nlohmann::json::object();
      j["source"] = "checkpoint";
      j["tensors"] = ck.tensor_count();
      j["shards"] = ck.shards().size();
      j["problems"] = nlohmann::json::array();
      for (const auto& f : rep.findings)
        j["problems"].push_back({{"severity", f.severity == Finding::Error ? "error" : "info"}, {"tensor", f.tensor}, {"message", f.message}});
      j["mtp_layers"] = rep.mtp_layers;
      j["conformant"] = rep.ok();
      std::cout << j.dump(2) << "\n";
    } else {
      fmt::print("{}: {} tensors in {} shard(s), {} layers, {} experts (top-{})\n\n", o->dir, ck.tensor_count(), ck.shards().size(),
                 cfg.num_hidden_layers, cfg.num_local_experts, cfg.num_experts_per_tok);
      if (summarized) print_table(s);
      if (rep.findings.empty()) fmt::print("\nconformance: OK (every tensor matches the MiniMax-M2 table)\n");
      else {
        fmt::print("\nconformance: {} problem(s)\n", rep.errors());
        for (const auto& f : rep.findings)
          fmt::print("  {:<5} {}: {}\n", f.severity == Finding::Error ? "error" : "info", f.tensor, f.message);
      }
    }
    return rep.ok() ? 0 : 1;
  };
}

}  // namespace

MIXQ_COMMAND("inspect", "Summarize a checkpoint (or a config alone) per precision class; check conformance", setup);
