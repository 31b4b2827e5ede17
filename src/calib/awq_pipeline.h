// AWQ inside `mixq quantize` (issue 6): the sequential pipeline as a WeightTransform that the
// quantize job calls before rounding each Linear and before writing each norm / router gate.
//
// Calibration token sequences are embedded once; then decoder layers are processed in order, each
// exactly once, the first time the job asks for any tensor of that layer (or of a later one):
//   1. attention with the engine (Model::attention_block) on the layer's input hidden states;
//   2. awq_smooth_moe_layer on the post-attention residual: norm -> {gate, w1, w3} with the whole
//      MoE block as parent, then w3_e -> w2_e per expert over all tokens; router compensation on by
//      default (Off reproduces the public recipes);
//   3. propagation with the SMOOTHED, unquantized weights (llm-compressor's default): the layer's
//      output becomes the next layer's input.
// The mappings are the recipe's, resolved per layer as llm-compressor does (calib/awq_mappings.h);
// a mapping the pipeline cannot run exactly is an InputError before any work.
// No smoothed weights are kept: after a layer, only its scale vectors (and the smoothed norm and
// gate, [hidden] and [experts, hidden]) stay; when the job hands over an expert matrix (its source
// bf16 values, read again from the checkpoint) the same smoothing is applied to the job's buffer
// (smooth_expert_matrix: the same bits as the smoothing applied in place during the layer).
//
// Memory: the calibration hidden states, N tokens x hidden fp32 (plus one [N, hidden] norm output
// and MoE output inside step 2/3: ~4 x N x hidden x 4 B), and, WHILE a layer is computed, that
// layer's expert weights as bf16, 3 x E x I x H x 2 B (7.2 GB at MiniMax-M2's real size; was
// 14.5 GB as fp32), decoded to fp32 one expert at a time (3 x I x H x 4 B = 57 MB) when used, plus
// one trial matrix. Between layers: the scales, ~(E x I + 2 x hidden) x 8 B + E x hidden x 4 B
// (6 MB at real size). Attention weights stay mmap'd.
// Above options.memory_budget the hidden states are file-backed (calib/hidden_spill.h).
// Resume: with options.state_dir, the state entering each layer and every layer's report are saved
// (calib/awq_resume_state.h; at most 2 x N x hidden x 4 B of states on disk); a restarted job
// continues from the newest valid state entering a layer <= the first layer it asks for.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calib/awq_mappings.h"
#include "calib/awq_moe_layer.h"
#include "calib/awq_resume_state.h"
#include "calib/hidden_spill.h"
#include "quant/quantize_job.h"

namespace mixq {
class Model;
}

namespace mixq::calib {

struct AwqPipelineOptions {
  std::string calib_spec;           // empty: default_calib_spec_path()
  int64_t calib_samples = 0;         // > 0: override the spec's num_samples
  int64_t calib_seq_len = 0;         // > 0: override the spec's max_seq_length
  RouterCompensation router = RouterCompensation::On;
  bool w2_gram_loss = false;
  // Propagation to the next layer: false = llm-compressor's default, the smoothed unquantized
  // weights; true = the values the checkpoint will hold (QDQ of the smoothed W4 experts), so later
  // layers calibrate on the inputs the quantized model will really produce.
  bool propagate_quantized = false;
  int n_grid = 20;
  DuoScaling duo = DuoScaling::On;
  int64_t group = 32;  // unused: the group size comes from the recipe's scheme (awq_mappings.h)
  // The recipe whose AWQModifier mappings run (read in the constructor only). nullptr: the published
  // MiniMax-M2.1 FP8-INT4 recipe (experts W4 g32; norm -> w1/w3, w3 -> w2).
  const Recipe* recipe = nullptr;
  // Resume and spill (docs/awq.md section 4). state_dir empty: no per-layer resume state (and no
  // spill); quantize sets <output>/.mixq_awq_state. Neither changes any result.
  std::string state_dir;
  std::string recipe_sha256;                  // part of the state fingerprint
  uint64_t memory_budget = 4ull << 30;        // hidden states above this: file-backed (hidden_spill.h)
};

class AwqPipeline : public WeightTransform {
 public:
  AwqPipeline(const std::string& model_dir, const AwqPipelineOptions& opt);
  ~AwqPipeline() override;

  void transform_linear(const std::string& module, float* w, int64_t out, int64_t in) override;
  bool transform_dense(const std::string& tensor, std::vector<float>& values) override;
  std::string name() const override;

  // Per layer: calibration tokens, per mapping the chosen grid point (ratio, duo), loss at identity
  // and at the chosen point, routed tokens per expert, routing-change rates. Layers computed by a
  // killed earlier run of the same job come from the resume state; layers never computed are absent.
  nlohmann::ordered_json report() const;
  int64_t calibration_tokens() const { return tokens_; }
  // A restart of the job resumes writing at `tensor` or later (the first tensor of the shard the
  // job is starting): resume states entering earlier layers are no longer needed.
  void resume_point(const std::string& tensor) override;
  // The job succeeded and awq_report.json is written: delete the resume state (nothing left behind).
  void discard_state();

 private:
  void advance_to(int layer);
  void start(int layer);   // first request: hidden states from the newest resume state, or embedded
  void embed_all();
  void run_layer(int l);

  AwqPipelineOptions opt_;
  std::unique_ptr<Model> model_;
  std::vector<int64_t> seq_len_;    // per calibration sequence
  Matrix hidden_;                   // [N, hidden]: the residual stream entering layer next_
  int64_t tokens_ = 0;
  int next_ = 0;                    // first layer not processed yet
  // Hand-out table of the smoothing, keyed by module name (experts) or tensor name (norm, gate):
  // expert matrices get their layer's scales re-applied to the job's buffer; the norm and the gate
  // are kept smoothed (small). Erased as handed out.
  struct LayerScales {
    std::vector<double> norm;               // empty: the norm mapping did not run
    std::vector<std::vector<double>> w2;    // per expert; empty: w3 -> w2 did not run
  };
  struct Pending {
    std::shared_ptr<const LayerScales> scales;
    int expert = -1, part = 0;              // expert matrix: part 1 (w1), 3 (w3), 2 (w2)
    int64_t rows = 0, cols = 0;
    std::vector<float> dense;               // norm / gate: the smoothed values
  };
  std::map<std::string, Pending> pending_;
  AwqPlan awq_plan_;                        // the recipe's mappings resolved per layer
  void smooth_expert(const Pending& p, float* w) const;
  nlohmann::ordered_json layers_ = nlohmann::ordered_json::array();
  // Resume and spill.
  std::vector<int32_t> ids_;               // the calibration token ids, in row order (embedded lazily)
  std::unique_ptr<AwqResumeState> state_;  // null without options.state_dir
  std::unique_ptr<HiddenSpill> spill_;     // set while hidden_ is file-backed
  bool started_ = false;
  int loaded_state_ = -1;                  // the layer whose entering state start() loaded
  int num_layers_ = 0;
};

}  // namespace mixq::calib
