// mixq quantize --model DIR | --config FILE  --recipe FILE [--recipe-override FILE]...  [--output DIR] [--dry-run [--json]]
// Resolves an llm-compressor recipe against a MiniMax-M2 checkpoint (BF16 or the FP8-block
// release) and writes a compressed-tensors checkpoint vLLM loads as is: INT4 W4A16 pack-quantized
// targets (RTN, after AWQ smoothing when the recipe has an AWQModifier: calibration runs layer by
// layer through the engine, calib/awq_pipeline.h; --rtn skips it), FP8
// Linears kept or dequantized, everything else copied bit-exactly. Streaming and resumable.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "calib/awq_pipeline.h"
#include "calib/awq_summary.h"
#include "eval/eval_set.h"
#include "eval/kld.h"
#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "quant/plan_report.h"
#include "quant/quant_plan.h"
#include "quant/quantize_job.h"
#include "quant/recipe.h"
#include "quant/recipe_overlay.h"
#include "runtime/model.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"
#include "util/sha256.h"

namespace {

struct Opts {
  std::string model, config, recipe, output, source_dtype, max_shard = "5GB";
  std::vector<std::string> recipe_overrides;
  bool dry_run = false, json = false, dequantize_fp8 = false, no_progress = false, overwrite = false;
  // AWQ (recipes with an AWQModifier)
  bool rtn = false, no_router_compensation = false, awq_w2_gram = false;
  std::string awq_propagate = "smoothed";
  std::string calib;
  int64_t calib_samples = 0, calib_seq_len = 0;
  std::string calib_memory = "4GiB";
  // End-to-end check after writing (off by default: it runs both models over every eval token)
  std::string eval_text, eval_gsm8k;
  int64_t eval_tokens = 4096;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Input model directory (BF16 or FP8-block MiniMax-M2)");
  app.add_option("--config", o->config, "Only a config.json (with --dry-run): predict the plan and size");
  app.add_option("--recipe", o->recipe, "llm-compressor recipe YAML")->required();
  app.add_option("--recipe-override", o->recipe_overrides,
                 "YAML merged into the recipe without editing it (maps merge, lists/scalars replace; e.g. "
                 "recipes/overrides/strix-2h-tiny-depth.yaml); repeatable, applied in order");
  app.add_option("--output", o->output, "Output directory (resumed when it holds a partial run of the same job)");
  app.add_flag("--overwrite", o->overwrite,
               "Replace what --output holds (another job's output, unrelated files) instead of refusing; never the input model");
  app.add_flag("--dry-run", o->dry_run, "Print the plan and predicted size; write nothing");
  app.add_flag("--json", o->json, "With --dry-run: machine-readable plan (has predicted_bytes)");
  app.add_flag("--dequantize-fp8", o->dequantize_fp8,
               "Write unmatched FP8-block Linears as BF16 instead of keeping them FP8 (default: keep, mixed-precision file)");
  app.add_option("--source-dtype", o->source_dtype,
                 "With --config: assume every high-precision source tensor has this dtype (bf16: a BF16 re-release such as "
                 "amd/MiniMax-M2.7-BF16)");
  app.add_option("--max-shard-size", o->max_shard, "Largest shard (tensor bytes), e.g. 5GB (default), 4MiB");
  app.add_flag("--no-progress", o->no_progress, "No progress bar");
  app.add_flag("--rtn", o->rtn, "AWQ recipes: skip the AWQ smoothing, plain RTN of the same targets (for comparison)");
  app.add_flag("--no-router-compensation", o->no_router_compensation,
               "AWQ: do not compensate the router gate for the norm smoothing (the published recipes' behaviour; routing changes)");
  app.add_option("--calib", o->calib, "AWQ: calibration spec YAML (default: the bundled data/calib/default.yaml)");
  app.add_option("--calib-samples", o->calib_samples, "AWQ: override the spec's num_samples")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--calib-seq-len", o->calib_seq_len, "AWQ: override the spec's max_seq_length")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--calib-memory", o->calib_memory,
                 "AWQ: RAM for the calibration hidden states (tokens x hidden x 4 B); above it they are file-backed in the "
                 "output's .mixq_awq_state (default 4GiB)");
  app.add_option("--eval-text", o->eval_text,
                 "After writing: mean KLD / top-1 of the output vs --model on this held-out text (as mixq eval kld), into "
                 "eval_kld.json and awq_report.json");
  app.add_option("--eval-gsm8k", o->eval_gsm8k, "After writing: the same on GSM8K-style JSONL rendered as chat");
  app.add_option("--eval-tokens", o->eval_tokens, "Positions for --eval-text/--eval-gsm8k, split between them (default 4096)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  app.add_flag("--awq-w2-gram", o->awq_w2_gram, "AWQ: w3 -> w2 loss from the Gram matrix (much faster; not bit-identical to llm-compressor)");
  app.add_option("--awq-propagate", o->awq_propagate,
                 "AWQ: what the next layer calibrates on: smoothed (llm-compressor's default: smoothed, unquantized "
                 "weights) or quantized (the W4 values the checkpoint holds)")
      ->check(CLI::IsMember({"smoothed", "quantized"}));
  return [o]() -> int {
    using namespace mixq;
    if (o->model.empty() == o->config.empty()) fail("quantize: give --model DIR or --config FILE");
    if (!o->config.empty() && !o->dry_run) fail("quantize: --config only predicts (--dry-run); quantizing needs --model");
    if (o->json && !o->dry_run) fail("quantize: --json is for --dry-run");
    const bool eval = !o->eval_text.empty() || !o->eval_gsm8k.empty();
    if (eval && o->dry_run) fail("quantize: --eval-text/--eval-gsm8k need a quantize run, not --dry-run");
    if (!o->dry_run && o->output.empty()) fail("quantize: --output DIR is required");
    Recipe recipe = load_recipe(o->recipe, o->recipe_overrides);
    PlanOptions po;
    po.keep_fp8 = !o->dequantize_fp8;
    po.max_shard_bytes = parse_byte_size(o->max_shard, "--max-shard-size");
    if (!o->source_dtype.empty()) {
      if (o->model.size()) fail("quantize: --source-dtype only applies with --config (a checkpoint's dtypes are read from it)");
      if (o->source_dtype == "bf16" || o->source_dtype == "BF16") po.source_dtype = DType::BF16;
      else fail("quantize: --source-dtype '{}' is not supported (bf16)", o->source_dtype);
    }
    if (o->dry_run) {
      QuantPlan p;
      std::string what;
      if (!o->config.empty()) {
        p = plan_quantization(load_minimax_m2_config(o->config), recipe, po);
        what = o->config;
      } else {
        Checkpoint ck(o->model);
        if (!ck.has_config()) fail("{}: no config.json", o->model);
        p = plan_quantization(ck, load_minimax_m2_config(ck.config_path()), recipe, po);
        what = o->model;
      }
      if (o->json) {
        std::cout << p.to_json().dump(2) << "\n";
      } else {
        fmt::print("plan for {} with recipe {}\n\n{}", what, recipe.source, format_plan(p));
      }
      return 0;
    }
    QuantizeOptions qo;
    qo.model_dir = o->model;
    qo.output_dir = o->output;
    qo.plan = po;
    qo.progress = !o->no_progress;
    qo.overwrite = o->overwrite;
    qo.rtn_requested = o->rtn;
    std::unique_ptr<calib::AwqPipeline> awq;
    const bool awq_flags = o->no_router_compensation || o->awq_w2_gram || o->awq_propagate != "smoothed" || !o->calib.empty() || o->calib_samples || o->calib_seq_len;
    if (awq_flags && (!recipe.awq.enabled || o->rtn))
      MIXQ_WARN("quantize: AWQ options ignored ({})", o->rtn ? "--rtn" : "the recipe has no AWQModifier");
    if (recipe.awq.enabled && !o->rtn) {
      calib::AwqPipelineOptions ao;
      ao.calib_spec = o->calib;
      ao.calib_samples = o->calib_samples;
      ao.calib_seq_len = o->calib_seq_len;
      ao.router = o->no_router_compensation ? calib::RouterCompensation::Off : calib::RouterCompensation::On;
      ao.w2_gram_loss = o->awq_w2_gram;
      ao.propagate_quantized = o->awq_propagate == "quantized";
      ao.n_grid = recipe.awq.n_grid;
      ao.recipe = &recipe;  // its mappings, resolved per layer (calib/awq_mappings.h)
      ao.duo = recipe.awq.duo_scaling == "false" ? calib::DuoScaling::Off
               : recipe.awq.duo_scaling == "both" ? calib::DuoScaling::Both : calib::DuoScaling::On;
      ao.state_dir = path_join(o->output, calib::kAwqStateDirName);  // per-layer resume state, spill
      ao.recipe_sha256 = sha256_hex(recipe.text.data(), recipe.text.size());
      ao.memory_budget = parse_byte_size(o->calib_memory, "--calib-memory");
      awq = std::make_unique<calib::AwqPipeline>(o->model, ao);
      qo.transform = awq.get();
    }
    // Checked before the (long) quantize run, so a bad eval file fails in seconds.
    std::vector<eval::EvalSequence> eval_seqs;
    if (eval) eval_seqs = eval::build_eval_sequences({o->eval_text, o->eval_gsm8k, o->eval_tokens, 512}, o->model, "quantize --eval-*");
    QuantizeResult r = run_quantize(recipe, qo);
    nlohmann::ordered_json report = awq ? awq->report() : nlohmann::ordered_json();
    // A re-run of a finished job computes no layer (every shard is complete and the resume state is
    // gone): the report already beside the checkpoint is this job's (the job identity matched).
    if (awq && report["layers"].empty() && file_exists(path_join(o->output, "awq_report.json"))) {
      auto prev = nlohmann::ordered_json::parse(read_file(path_join(o->output, "awq_report.json")), nullptr, false);
      if (prev.is_object() && prev.contains("layers") && !prev["layers"].empty()) report = std::move(prev);
    }
    nlohmann::ordered_json kld;
    if (eval) {
      Model ref(o->model), out(o->output);
      kld = {{"reference", o->model}, {"model", o->output}, {"eval_text", o->eval_text}, {"eval_gsm8k", o->eval_gsm8k}};
      const nlohmann::ordered_json rj = eval::compare_models(ref, out, eval_seqs).to_json();
      for (auto it = rj.begin(); it != rj.end(); ++it) kld[it.key()] = it.value();
      write_file_atomic(path_join(o->output, "eval_kld.json"), kld.dump(2) + "\n");
      if (awq) report["end_to_end"] = kld;
    }
    if (awq) write_file_atomic(path_join(o->output, "awq_report.json"), report.dump(2) + "\n");
    if (awq) awq->discard_state();  // after the report: a kill before it resumes with every layer's report
    fmt::print("{}: {} shard(s), {} bytes ({} resumed) in {:.1f} s, {:.2f} GB/s of input\n", o->output, r.shards, with_commas(r.output_bytes),
               r.shards_resumed, r.seconds, r.seconds > 0 ? double(r.input_bytes) / r.seconds / 1e9 : 0.0);
    if (r.fp8_kept)
      fmt::print("{}: {} FP8-block Linear(s) of the source (attention) kept as FP8 with their block scales; --dequantize-fp8 writes "
                 "them as BF16\n", o->output, r.fp8_kept);
    // The quality summary (quiet with -q; the full report is the JSON beside the checkpoint).
    if (log_level() <= LogLevel::Info) {
      if (awq) fmt::print("\n{}full report: {}\n", calib::format_awq_summary(report), path_join(o->output, "awq_report.json"));
      if (eval && !awq) fmt::print("end to end vs the source (mixq eval kld): {}\n", calib::format_kld_line(kld));
      if (eval) fmt::print("written to {}\n", path_join(o->output, "eval_kld.json"));
      else
        fmt::print("end-to-end quality vs the source: mixq eval kld --reference {} --model {} --text HELDOUT.txt [--gsm8k FILE.jsonl] "
                   "(or quantize with --eval-text/--eval-gsm8k)\n", o->model, o->output);
    }
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("quantize", "Quantize a MiniMax-M2 checkpoint with an llm-compressor recipe into compressed-tensors (vLLM)", setup);
