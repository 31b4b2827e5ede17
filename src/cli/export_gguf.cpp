// mixq export-gguf MODEL_DIR --output FILE.gguf [--scales refuse|clamp] [--fp8 bf16|f32|q8_0]
//                  [--split-max-size SIZE] [--no-progress] [--json]
// A MiniMax-M2 checkpoint (BF16 / FP8 original, or a compressed-tensors W4A16 quant) as a GGUF for
// llama.cpp's minimax-m2 architecture (quant/gguf_export.h). Prints what each tensor class became
// and whether it is exact. Nothing is left half-written: each file appears only when complete.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "quant/gguf_export.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/number_format.h"
#include "util/progress.h"

namespace {

struct Opts {
  std::string dir, output, scales = "refuse", fp8 = "bf16", split;
  bool no_progress = false, json = false;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("dir", o->dir, "Model directory (config.json + safetensors + tokenizer.json)")->required();
  app.add_option("-o,--output", o->output, "Output .gguf file")->required();
  app.add_option("--scales", o->scales,
                 "INT4 group scales not exact in fp16: refuse (default) or clamp (round to fp16, saturate at 65504; "
                 "the changed groups are counted)")
      ->check(CLI::IsMember({"refuse", "clamp"}));
  app.add_option("--fp8", o->fp8, "FP8-block Linears become bf16 (default; rounding counted), f32 (exact) or q8_0")
      ->check(CLI::IsMember({"bf16", "f32", "q8_0"}));
  app.add_option("--split-max-size", o->split,
                 "Split into files of at most this much tensor data (e.g. 40GB), named like llama.cpp's gguf-split: "
                 "FILE-00001-of-0000N.gguf");
  app.add_flag("--no-progress", o->no_progress, "No progress bar");
  app.add_flag("--json", o->json, "Machine-readable summary");
  return [o]() -> int {
    using namespace mixq;
    using namespace mixq::gguf;
    ExportOptions opt;
    opt.scales = o->scales == "clamp" ? ScalePolicy::Clamp : ScalePolicy::Refuse;
    opt.fp8_as = o->fp8 == "f32" ? TensorType::F32 : o->fp8 == "q8_0" ? TensorType::Q8_0 : TensorType::BF16;
    if (!o->split.empty()) opt.split_max_bytes = parse_byte_size(o->split, "--split-max-size");
    opt.progress = !o->no_progress;
    ExportReport r = export_gguf(o->dir, o->output, opt);
    if (o->json) {
      nlohmann::json j;
      j["files"] = r.files;
      j["tensors"] = r.tensors;
      j["tensor_bytes"] = r.tensor_bytes;
      j["skipped_checkpoint_tensors"] = r.skipped;
      j["vocab"] = {{"tokens", r.vocab.tokens}, {"merges", r.vocab.merges}, {"added", r.vocab.added}, {"padded", r.vocab.padded},
                    {"bos", r.vocab.bos}, {"eos", r.vocab.eos}, {"chat_template", r.vocab.chat_template}};
      j["classes"] = nlohmann::json::array();
      for (const auto& c : r.classes)
        j["classes"].push_back({{"class", c.cls}, {"source", c.source}, {"gguf_type", c.target}, {"tensors", c.tensors},
                                {"parameters", c.params}, {"bytes", c.bytes}, {"changed", c.stats.changed},
                                {"max_rel_change", c.stats.max_rel_change}, {"exactness", c.exactness()}});
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    fmt::print("{:<12} {:<14} {:<6} {:>7} {:>16} {:>12}  {}\n", "class", "checkpoint", "gguf", "tensors", "parameters", "bytes", "conversion");
    for (const auto& c : r.classes)
      fmt::print("{:<12} {:<14} {:<6} {:>7} {:>16} {:>12}  {}\n", c.cls, c.source, c.target, c.tensors, with_commas(c.params),
                 human_bytes(double(c.bytes)), c.exactness());
    fmt::print("\n{} tensors, {} of tensor data; vocabulary {} tokens ({} merges, {} added, {} padding), bos {} eos {}, chat template: {}\n",
               r.tensors, human_bytes(double(r.tensor_bytes)), r.vocab.tokens, r.vocab.merges, r.vocab.added, r.vocab.padded, r.vocab.bos,
               r.vocab.eos, r.vocab.chat_template ? "yes" : "no");
    if (r.skipped) fmt::print("{} checkpoint tensor(s) have no place in llama.cpp's minimax-m2 (e.g. MTP modules) and were skipped\n", r.skipped);
    for (const auto& f : r.files) fmt::print("wrote {}\n", f);
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("export-gguf", "Write a llama.cpp GGUF (minimax-m2): INT4 g32 -> Q4_0 losslessly, BF16 stays BF16", setup);
