// `mixq quantize`: one streaming pass over a MiniMax-M2 checkpoint (BF16 or FP8-block) that
// writes a compressed-tensors checkpoint following a QuantPlan.
//
// Memory: tensors are produced one at a time; a quantized Linear is materialized once as fp32
// (4 bytes x its elements) plus its packed output (~0.56 bytes/element); copied tensors stream
// through a fixed 64 MiB window. Consumed input ranges are dropped from the page cache
// (madvise DONTNEED), so peak RSS is a small multiple of the largest quantized tensor, whatever
// the model size.
// Resume: shards are written as "<name>.tmp" and renamed when complete (SafetensorsWriter); a
// restarted run of the same job (same recipe, input fingerprint and options, recorded in
// .mixq_job.json) skips complete shards and produces byte-identical output.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "quant/quant_plan.h"
#include "quant/recipe.h"

namespace mixq {

// The hook a smoothing step (AWQ) plugs into, called in output order before rounding.
class WeightTransform {
 public:
  virtual ~WeightTransform() = default;
  // A Linear about to be quantized: w is [out, in] fp32 holding the source's bf16 values. Modify
  // in place; the result is rounded to bf16 (as writing into a bf16 parameter does) before RTN.
  virtual void transform_linear(const std::string& module, float* w, int64_t out, int64_t in) {}
  // A high-precision tensor (a norm weight, the router gate). Return true when `values` (fp32)
  // were modified: they are then converted back to the tensor's dtype instead of copied.
  virtual bool transform_dense(const std::string& tensor, std::vector<float>& values) { return false; }
  // The job starts writing the output shard whose first tensor is `tensor` (a restart after a kill
  // resumes at that tensor or later): state kept only to resume earlier work may be dropped.
  virtual void resume_point(const std::string& tensor) {}
  // Recorded in the job identity and the manifest ("rtn" when no transform).
  virtual std::string name() const = 0;
};

struct QuantizeOptions {
  std::string model_dir, output_dir;
  PlanOptions plan;
  bool progress = true;
  bool overwrite = false;  // replace a non-resumable --output's contents instead of refusing
  bool rtn_requested = false;  // --rtn: plain RTN is what the user asked for, not a missing calibration
  WeightTransform* transform = nullptr;  // null: plain RTN
};

struct QuantizeResult {
  size_t shards = 0, shards_resumed = 0;
  uint64_t output_bytes = 0, input_bytes = 0;
  size_t fp8_kept = 0;  // FP8-block Linears written as FP8 (the source's attention, kept)
  double seconds = 0;
  std::vector<std::string> warnings;
};

QuantizeResult run_quantize(const Recipe& recipe, const QuantizeOptions& opt);

// sha256 over every input shard's name, size and header: identifies the input without reading
// hundreds of GB (the manifest records it; resume refuses a different input).
std::string input_fingerprint(const std::string& model_dir);

inline const char* kManifestName = "mixq_manifest.json";
inline const char* kJobName = ".mixq_job.json";

}  // namespace mixq
