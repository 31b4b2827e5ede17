// mixq synth --output DIR [--format bf16|fp8] [--seed N] [--max-shard-size BYTES] [--from-config FILE]
//            [--hidden-size N --layers N ...] [--outlier-channels K --outlier-scale X]
//            [--tokenizer MODEL_DIR]  (its tokenizer copied in, vocab_size and bos/eos matched to it)
//       mixq synth --from MODEL --output DIR [--outlier-channels K] [--outlier-scale LO:HI] [--seed N]
//            (a function-preserving outlier variant of a BF16 checkpoint, model/outlier_variant.h)
// Writes a seeded, deterministic MiniMax-M2-shaped checkpoint (same arguments -> identical bytes).
// Architecture fields start from a small default (or --from-config) and each flag overrides one.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "cli/command.h"
#include "model/minimax_m2_config.h"
#include "model/outlier_variant.h"
#include "io/checkpoint.h"
#include "model/synth.h"
#include "text/tokenizer.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"

namespace {

struct Opts {
  std::string output, format = "bf16", max_shard = "2GB", from_config, from, outlier_scale = "20", tokenizer;
  uint64_t seed = 0;
  int outlier_channels = 4;
  std::optional<int64_t> hidden, inter, layers, heads, kv_heads, head_dim, rotary_dim, experts, topk, vocab, max_pos,
      bos, eos;
  std::optional<double> rope_theta, eps;
  bool no_qk_norm = false, no_routing_bias = false, tie = false;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("-o,--output", o->output, "Output directory (created; files of an earlier run are resumed or replaced)")->required();
  app.add_option("--format", o->format, "bf16 or fp8 (an FP8-block release like the official one)")
      ->check(CLI::IsMember({"bf16", "fp8"}));
  app.add_option("--seed", o->seed, "Random seed (same arguments and seed -> byte-identical output)");
  app.add_option("--max-shard-size", o->max_shard, "Largest shard, e.g. 4MiB, 5GB (default 2GB)");
  app.add_option("--from-config", o->from_config, "Start from this config.json instead of the small default");
  app.add_option("--hidden-size", o->hidden, "hidden_size");
  app.add_option("--intermediate-size", o->inter, "intermediate_size (per expert)");
  app.add_option("--layers", o->layers, "num_hidden_layers");
  app.add_option("--heads", o->heads, "num_attention_heads");
  app.add_option("--kv-heads", o->kv_heads, "num_key_value_heads");
  app.add_option("--head-dim", o->head_dim, "head_dim");
  app.add_option("--rotary-dim", o->rotary_dim, "rotary_dim");
  app.add_option("--experts", o->experts, "num_local_experts");
  app.add_option("--experts-per-tok", o->topk, "num_experts_per_tok");
  app.add_option("--vocab-size", o->vocab, "vocab_size");
  app.add_option("--max-position-embeddings", o->max_pos, "max_position_embeddings");
  app.add_option("--rope-theta", o->rope_theta, "rope_theta");
  app.add_option("--rms-norm-eps", o->eps, "rms_norm_eps");
  app.add_option("--bos-token-id", o->bos, "bos_token_id");
  app.add_option("--eos-token-id", o->eos, "eos_token_id");
  app.add_flag("--no-qk-norm", o->no_qk_norm, "use_qk_norm = false");
  app.add_flag("--no-routing-bias", o->no_routing_bias, "use_routing_bias = false");
  app.add_flag("--tie-word-embeddings", o->tie, "tie_word_embeddings = true (no lm_head tensor)");
  app.add_option("--tokenizer", o->tokenizer,
                 "Model directory whose tokenizer (tokenizer.json, tokenizer_config.json, chat template) to copy into the "
                 "output; vocab_size and bos/eos follow it, so quantize (AWQ) and generate run on the synthetic model");
  app.add_option("--outlier-channels", o->outlier_channels, "Outlier input channels per layer (default 4)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--outlier-scale", o->outlier_scale,
                 "Their post-attention norm gain X (default 20), or with --from a range LO:HI (uniform per channel, seeded)");
  app.add_option("--from", o->from,
                 "Instead of generating: write a function-preserving outlier variant of this BF16 model (norm gain x alpha, "
                 "gate/w1/w3 input columns / alpha)");
  return [o]() -> int {
    using namespace mixq;
    float lo = 0, hi = 0;
    {
      const std::string& t = o->outlier_scale;
      auto colon = t.find(':');
      try {
        size_t used = 0;
        lo = std::stof(t.substr(0, colon), &used);
        if (used != t.substr(0, colon).size()) throw std::invalid_argument(t);
        hi = lo;
        if (colon != std::string::npos) {
          hi = std::stof(t.substr(colon + 1), &used);
          if (used != t.size() - colon - 1) throw std::invalid_argument(t);
        }
      } catch (const std::exception&) {
        fail("--outlier-scale '{}': expected a number X or a range LO:HI", t);
      }
      if (!(lo > 0) || !(hi >= lo)) fail("--outlier-scale '{}': need 0 < LO <= HI", t);
    }
    if (!o->from.empty()) {
      OutlierVariantOptions ov;
      ov.channels = o->outlier_channels;
      ov.scale_lo = lo;
      ov.scale_hi = hi;
      ov.seed = o->seed;
      write_outlier_variant(o->from, o->output, ov);
      MIXQ_INFO("synth: wrote outlier variant of {} into {} ({} channels per layer, gain {}..{})", o->from, o->output, ov.channels, lo, hi);
      return 0;
    }
    if (lo != hi) fail("--outlier-scale '{}': a range is only for --from (synthetic models use one gain)", o->outlier_scale);
    SynthOptions s;
    s.config = o->from_config.empty() ? default_synth_config() : load_minimax_m2_config(o->from_config);
    auto& c = s.config;
    if (!o->from_config.empty()) {
      // The architecture comes from the file; the storage format from --format.
      c.quant = CheckpointQuant::None;
      c.raw.erase("quantization_config");
    }
    auto set = [](int64_t& field, const std::optional<int64_t>& v) { if (v) field = *v; };
    set(c.hidden_size, o->hidden);
    set(c.intermediate_size, o->inter);
    set(c.num_hidden_layers, o->layers);
    set(c.num_attention_heads, o->heads);
    set(c.num_key_value_heads, o->kv_heads);
    set(c.head_dim, o->head_dim);
    set(c.rotary_dim, o->rotary_dim);
    set(c.num_local_experts, o->experts);
    set(c.num_experts_per_tok, o->topk);
    set(c.vocab_size, o->vocab);
    set(c.max_position_embeddings, o->max_pos);
    if (o->rope_theta) c.rope_theta = *o->rope_theta;
    if (o->eps) c.rms_norm_eps = *o->eps;
    if (o->bos) c.bos_token_ids = {*o->bos};
    if (o->eos) c.eos_token_ids = {*o->eos};
    if (o->no_qk_norm) c.use_qk_norm = false;
    if (o->no_routing_bias) c.use_routing_bias = false;
    if (o->tie) c.tie_word_embeddings = true;
    // A head_dim change without --rotary-dim keeps the default's rotary fraction valid.
    if (o->head_dim && !o->rotary_dim && c.rotary_dim > c.head_dim) c.rotary_dim = c.head_dim / 2 * 2;
    // Special tokens inherited from a bigger vocabulary (the default, --from-config) fall back to
    // the synth defaults bos 1 / eos 2 when --vocab-size shrinks it; explicit ids are validated as given.
    auto fits = [&](const std::vector<int64_t>& ids) {
      for (auto id : ids)
        if (id >= c.vocab_size) return false;
      return true;
    };
    if (!o->bos && !fits(c.bos_token_ids)) c.bos_token_ids = {std::min<int64_t>(1, c.vocab_size - 1)};
    if (!o->eos && !fits(c.eos_token_ids)) c.eos_token_ids = {std::min<int64_t>(2, c.vocab_size - 1)};
    // The tokenizer's vocabulary decides vocab_size (an embedding smaller than the tokenizer fails
    // at the first token past it); its model's bos/eos ids come along.
    std::vector<std::string> tok_files;
    if (!o->tokenizer.empty()) {
      if (!o->from.empty()) fail("synth: --tokenizer is for generated models; --from keeps its model's tokenizer");
      if (!file_exists(path_join(o->tokenizer, "tokenizer.json"))) fail("{}: no tokenizer.json (--tokenizer takes a model directory)", o->tokenizer);
      const int64_t n = int64_t(text::Tokenizer::load(o->tokenizer)->vocab_size());
      if (o->vocab && *o->vocab < n) fail("--vocab-size {} is smaller than the tokenizer's {} tokens ({})", *o->vocab, n, o->tokenizer);
      if (!o->vocab) c.vocab_size = n;
      const std::string cj = path_join(o->tokenizer, "config.json");
      if (file_exists(cj)) {
        const MiniMaxM2Config tc = load_minimax_m2_config(cj);
        if (!o->bos) c.bos_token_ids = tc.bos_token_ids;
        if (!o->eos) c.eos_token_ids = tc.eos_token_ids;
      }
      for (const char* f : {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json",
                            "generation_config.json"})
        if (file_exists(path_join(o->tokenizer, f))) tok_files.push_back(f);
    }
    s.fp8 = o->format == "fp8";
    s.seed = o->seed;
    s.max_shard_bytes = parse_byte_size(o->max_shard, "--max-shard-size");
    s.outlier_channels = o->outlier_channels;
    s.outlier_scale = lo;
    write_synthetic_model(s, o->output);
    for (const auto& f : tok_files) write_file_atomic(path_join(o->output, f), read_file(path_join(o->tokenizer, f)));
    MIXQ_INFO("synth: wrote {} ({} layers, hidden {}, {} experts top-{}, {})", o->output, c.num_hidden_layers, c.hidden_size,
              c.num_local_experts, c.num_experts_per_tok, s.fp8 ? "FP8-block" : "BF16");
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("synth", "Write a seeded synthetic MiniMax-M2-shaped checkpoint (BF16 or FP8-block)", setup);
