// `mixq export-gguf`: a MiniMax-M2 checkpoint (BF16 or FP8-block original, or a mixq /
// llm-compressor compressed-tensors quant) as a GGUF file for llama.cpp's `minimax-m2` architecture
// (../shared/docs/gguf-minimax-m2.md has the names, shapes and keys; docs/gguf.md the user's view).
//
//   checkpoint                      GGUF
//   INT4 W4A16 sym, group 32k   ->  Q4_0, nibbles and scales copied (exact; quant/gguf_convert.h)
//   BF16 / F16 / F32 Linear     ->  the same type (exact); the router gate -> F32 (exact)
//   FP8-block Linear            ->  BF16 (rounded, counted) | F32 (exact) | Q8_0, by --fp8
//   norms, correction bias      ->  F32 (exact)
//   experts.{0..E-1}.w1/w3/w2   ->  blk.N.ffn_gate_exps / ffn_up_exps / ffn_down_exps [in, out, E]
//
// Memory is bounded by one converted expert matrix (or a 16 MiB row chunk of a bigger matrix):
// tensors stream into the writer, a stacked expert tensor one expert at a time; the checkpoint is
// mapped, so its pages are clean page cache the kernel can drop.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "quant/gguf_convert.h"
#include "quant/gguf_vocab.h"

namespace mixq::gguf {

struct ExportOptions {
  ScalePolicy scales = ScalePolicy::Refuse;
  TensorType fp8_as = TensorType::BF16;
  uint64_t split_max_bytes = 0;  // 0: one file; else tensor data per file (llama.cpp's split naming)
  bool progress = true;
};

// One line of the summary: a tensor class with one source storage and one GGUF type.
struct ClassLine {
  std::string cls, source, target;
  int64_t tensors = 0;
  uint64_t params = 0, bytes = 0;
  ConvertStats stats;
  std::string exactness() const;  // "exact", "exact (Q4_0 nibbles + fp16 scales)", "rounded: ..."
};

struct ExportReport {
  std::vector<std::string> files;
  std::vector<ClassLine> classes;
  uint64_t tensor_bytes = 0;
  int64_t tensors = 0, skipped = 0;  // skipped: checkpoint tensors llama.cpp has no place for (MTP)
  VocabSummary vocab;
};

ExportReport export_gguf(const std::string& model_dir, const std::string& output, const ExportOptions& opt);

// The GGUF tensor class of a minimax-m2 tensor name ("experts", "attention", "norms", ...), as the
// summary and `mixq inspect FILE.gguf` group them.
std::string gguf_tensor_class(const std::string& name);

// "<prefix>-00002-of-00005.gguf" for part 2 of 5 of "<prefix>.gguf" (llama.cpp's llama_split_path).
std::string split_path(const std::string& output, int part, int count);

}  // namespace mixq::gguf
