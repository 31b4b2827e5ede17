// mixq quantize --model DIR | --config FILE  --recipe FILE  [--output DIR] [--dry-run [--json]]
// Resolves an llm-compressor recipe against a MiniMax-M2 checkpoint (BF16 or the FP8-block
// release) and writes a compressed-tensors checkpoint vLLM loads as is: INT4 W4A16 pack-quantized
// targets (RTN, after AWQ smoothing when the recipe has an AWQModifier: calibration runs layer by
// layer through the engine, calib/awq_pipeline.h; --rtn skips it), FP8
// Linears kept or dequantized, everything else copied bit-exactly. Streaming and resumable.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "calib/awq_pipeline.h"
#include "io/checkpoint.h"
#include "model/minimax_m2_config.h"
#include "quant/plan_report.h"
#include "quant/quant_plan.h"
#include "quant/quantize_job.h"
#include "quant/recipe.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"

namespace {

struct Opts {
  std::string model, config, recipe, output, source_dtype, max_shard = "5GB";
  bool dry_run = false, json = false, dequantize_fp8 = false, no_progress = false;
  // AWQ (recipes with an AWQModifier)
  bool rtn = false, no_router_compensation = false, awq_w2_gram = false;
  std::string calib;
  int64_t calib_samples = 0, calib_seq_len = 0;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Input model directory (BF16 or FP8-block MiniMax-M2)");
  app.add_option("--config", o->config, "Only a config.json (with --dry-run): predict the plan and size");
  app.add_option("--recipe", o->recipe, "llm-compressor recipe YAML")->required();
  app.add_option("--output", o->output, "Output directory (resumed when it holds a partial run of the same job)");
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
  app.add_option("--calib-samples", o->calib_samples, "AWQ: override the spec's num_samples");
  app.add_option("--calib-seq-len", o->calib_seq_len, "AWQ: override the spec's max_seq_length");
  app.add_flag("--awq-w2-gram", o->awq_w2_gram, "AWQ: w3 -> w2 loss from the Gram matrix (much faster; not bit-identical to llm-compressor)");
  return [o]() -> int {
    using namespace mixq;
    if (o->model.empty() == o->config.empty()) fail("quantize: give --model DIR or --config FILE");
    if (!o->config.empty() && !o->dry_run) fail("quantize: --config only predicts (--dry-run); quantizing needs --model");
    if (o->json && !o->dry_run) fail("quantize: --json is for --dry-run");
    if (!o->dry_run && o->output.empty()) fail("quantize: --output DIR is required");
    Recipe recipe = load_recipe(o->recipe);
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
        fmt::print("plan for {} with recipe {}\n\n{}", what, o->recipe, format_plan(p));
      }
      return 0;
    }
    QuantizeOptions qo;
    qo.model_dir = o->model;
    qo.output_dir = o->output;
    qo.plan = po;
    qo.progress = !o->no_progress;
    std::unique_ptr<calib::AwqPipeline> awq;
    const bool awq_flags = o->no_router_compensation || o->awq_w2_gram || !o->calib.empty() || o->calib_samples || o->calib_seq_len;
    if (awq_flags && (!recipe.awq.enabled || o->rtn))
      MIXQ_WARN("quantize: AWQ options ignored ({})", o->rtn ? "--rtn" : "the recipe has no AWQModifier");
    if (recipe.awq.enabled && !o->rtn) {
      calib::AwqPipelineOptions ao;
      ao.calib_spec = o->calib;
      ao.calib_samples = o->calib_samples;
      ao.calib_seq_len = o->calib_seq_len;
      ao.router = o->no_router_compensation ? calib::RouterCompensation::Off : calib::RouterCompensation::On;
      ao.w2_gram_loss = o->awq_w2_gram;
      ao.n_grid = recipe.awq.n_grid;
      ao.duo = recipe.awq.duo_scaling == "false" ? calib::DuoScaling::Off
               : recipe.awq.duo_scaling == "both" ? calib::DuoScaling::Both : calib::DuoScaling::On;
      awq = std::make_unique<calib::AwqPipeline>(o->model, ao);
      qo.transform = awq.get();
    }
    QuantizeResult r = run_quantize(recipe, qo);
    if (awq) write_file_atomic(path_join(o->output, "awq_report.json"), awq->report().dump(2) + "\n");
    fmt::print("{}: {} shard(s), {} bytes ({} resumed) in {:.1f} s, {:.2f} GB/s of input\n", o->output, r.shards, with_commas(r.output_bytes),
               r.shards_resumed, r.seconds, r.seconds > 0 ? double(r.input_bytes) / r.seconds / 1e9 : 0.0);
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("quantize", "Quantize a MiniMax-M2 checkpoint with an llm-compressor recipe into compressed-tensors (vLLM)", setup);
