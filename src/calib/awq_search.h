// AWQ's per-mapping grid search (spec §5.5): for each grid point, replace every quantized balance
// layer W by QDQ(W*s)/s, run the mapping's parent forward on the cached calibration inputs, and keep
// the scales with the first strict minimum of the MSE against the parent's original output.
//
// The parent forward is a callback, so the same search serves the MoE block (norm -> gate, w1, w3;
// real routing) and a single Linear (w3 -> w2). Trial weights are materialized on demand into the
// caller's scratch, one matrix at a time, so memory is O(largest balance matrix), never a
// second copy of the 256 experts. Balance weights held as bf16 are decoded into that same scratch
// (the original for the reference run, then the trial computed in place), and w_mean decodes one
// layer at a time.
#pragma once
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "calib/awq_grid.h"
#include "calib/matrix.h"

namespace mixq::calib {

// Quantize-dequantize of a row-major [rows, cols] bf16-valued matrix (group along cols).
using QdqFn = void (*)(const float* w, int64_t rows, int64_t cols, int64_t group, float* out);

// The balance layers' weights as the parent forward sees them. get() returns the
// original data, or fills `scratch` with the trial weights and returns scratch.data(). Call it from
// outside thread-pool regions (computing trial weights uses the pool).
class BalanceWeights {
 public:
  virtual ~BalanceWeights() = default;
  virtual size_t size() const = 0;
  virtual const float* get(size_t i, std::vector<float>& scratch) const = 0;
};

// Computes the parent's output for all cached calibration batches, concatenated, into `out`
// (resized by the callee). Called once with the original weights, then once per grid point.
using ParentForward = std::function<void(const BalanceWeights& weights, std::vector<float>& out)>;

struct BalanceLayer {
  const Matrix* weight = nullptr;  // original [out, in] as fp32 (the router gate; tests), or
  bool quantized = false;          // has a W4 scheme: in w_mean and QDQ'd during the search
  const Bf16Matrix* bf16 = nullptr;  // original as bf16 (experts): decoded per use, one at a time

  int64_t rows() const { return bf16 ? bf16->rows : weight->rows; }
  int64_t cols() const { return bf16 ? bf16->cols : weight->cols; }
  // The original fp32 values: the Matrix's data, or the bf16 decoded into scratch.
  const float* original(std::vector<float>& scratch) const {
    return bf16 ? bf16->decode(scratch) : weight->data.data();
  }
};

struct AwqSearchOptions {
  int n_grid = 20;
  DuoScaling duo = DuoScaling::On;
  int64_t group = 32;
  QdqFn qdq = nullptr;  // nullptr = quant's fast qdq_int4 (group % 8 == 0); tests may pass the reference
  // Elements of the parent output per calibration batch, in order (the loss rounds each batch's
  // sum to bf16 as torch's mse_loss on bf16 outputs does). Empty = the whole output is one batch.
  std::vector<int64_t> batch_numel;
};

struct AwqSearchResult {
  std::vector<double> scales;     // best scales (identity = all ones when skipped)
  int best_index = -1;            // index into grid, -1 when skipped
  std::vector<GridPoint> grid;
  std::vector<float> losses;      // one per grid point
  bool skipped = false;           // no activations: identity scales, as llm-compressor does
};

// Trial weight i for scales s: bf16(QDQ(bf16(W*s)) / s) for quantized layers, the original otherwise.
void awq_trial_weight(const Matrix& w, std::span<const double> s, int64_t group, QdqFn qdq, float* out);
// The same on a raw [rows, cols] fp32 buffer; out may equal w (in place).
void awq_trial_weight(const float* w, int64_t rows, int64_t cols, std::span<const double> s, int64_t group, QdqFn qdq,
                      float* out);

// llm-compressor's loss: per batch sum((bf16(ref) - bf16(out))^2) in bf16 elementwise math with an
// fp32 accumulator, the batch sum rounded to bf16, summed in fp32, divided by the element count.
float awq_mse_loss(std::span<const float> ref, std::span<const float> out, std::span<const int64_t> batch_numel);

// `name` labels errors (the smooth layer's tensor name). x_mean: per input channel; token_count: how
// many tokens it was computed over (0 -> skipped). Throws InputError when no grid point gives a finite
// loss (non-finite calibration outputs), naming the mapping.
AwqSearchResult awq_search_best_scales(const std::string& name, std::span<const BalanceLayer> balance,
                                       std::span<const float> x_mean, int64_t token_count,
                                       const ParentForward& parent, const AwqSearchOptions& opts);

// The same search with the loss of each grid point supplied directly (e.g. the Gram-matrix loss of a
// Linear parent, calib/awq_gram.h): trial_loss(trial weights) -> loss; lower is better.
using TrialLoss = std::function<float(const BalanceWeights& trial)>;
AwqSearchResult awq_search_best_scales_by_loss(const std::string& name, std::span<const BalanceLayer> balance,
                                               std::span<const float> x_mean, int64_t token_count,
                                               const TrialLoss& trial_loss, const AwqSearchOptions& opts);

}  // namespace mixq::calib
