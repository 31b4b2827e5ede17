// Per-layer resume state of the AWQ pipeline (issue 6): what a `mixq quantize` restarted after
// kill -9 needs to continue calibration at the layer the job resumes at instead of layer 0.
//
// Files, in the state directory (<output>/.mixq_awq_state, removed when the job succeeds):
//   layer_<l>.json   {"fingerprint", "layer", "report"}: layer l's awq_report.json entry, kept for
//                    every computed layer (a few KB each) so a resumed run's report is identical;
//   hidden_<l>.bin   the residual stream entering layer l, [N, H] fp32 raw behind a 160-byte header
//                    (magic "MIXQAWQH", version, layer, N, H, fingerprint, payload sha256).
// Every file is written to a temp name, fsync'ed, renamed, and the directory fsync'ed. A file whose
// fingerprint differs (other input model, recipe, AWQ options, calibration tokens or mixq version)
// is ignored with an INFO line; a truncated / corrupt / hostile one (size, magic, header fields,
// payload hash) is ignored with a warning. Readers never trust a size from the file: the expected
// [N, H] comes from the caller and the file size must match it exactly.
//
// Disk bound: at most two hidden states, 2 x N x H x 4 B (1.5 GiB at 64k tokens x 3072), plus the
// report files. The two kept are the newest state entering a layer <= the resume floor (the layer
// of the first tensor of the output shard being written: a restart resumes there) and the newest.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mixq::calib {

inline constexpr char kAwqStateDirName[] = ".mixq_awq_state";
inline constexpr size_t kHiddenStateHeaderBytes = 160;

enum class StateCheck { Ok, Missing, Foreign, Corrupt };

struct StateLoad {
  StateCheck status = StateCheck::Missing;
  std::string why;  // for Foreign / Corrupt: one line naming the file and the reason
};

// Writes [rows, cols] fp32 `data` as the hidden state entering `layer`, crash-safely.
void write_hidden_state(const std::string& path, int layer, const std::string& fingerprint, const float* data, int64_t rows,
                        int64_t cols);
// Reads the state entering `layer` into out[rows * cols] after checking everything. On Corrupt,
// `out` may hold partial data (the caller recomputes it).
StateLoad read_hidden_state(const std::string& path, int layer, const std::string& fingerprint, int64_t rows, int64_t cols,
                            float* out);

class AwqResumeState {
 public:
  // fingerprint: 64 hex chars identifying everything the states depend on (awq_pipeline.cpp).
  AwqResumeState(std::string dir, std::string fingerprint, int64_t rows, int64_t cols);

  const std::string& dir() const { return dir_; }
  std::string hidden_path(int layer) const;
  std::string report_path(int layer) const;

  void save_report(int layer, const nlohmann::ordered_json& report);
  std::optional<nlohmann::ordered_json> load_report(int layer) const;  // nullopt: absent or rejected (logged)

  // Saves the state entering `layer`, then prunes to the two states described above.
  void save_hidden(int layer, const float* data);
  // The newest valid state entering a layer <= max_layer, loaded into out[rows * cols]; rejected
  // files are logged and deleted. nullopt: none (out may have been overwritten: recompute it).
  std::optional<int> load_newest_hidden(int max_layer, float* out, std::string* from = nullptr);

  // A restart of the job resumes at `layer` or later: states entering earlier layers are not needed
  // once one entering a layer in (newest kept <= layer] exists.
  void set_floor(int layer) { floor_ = layer; }
  int floor() const { return floor_; }

  std::vector<int> hidden_layers() const;  // layers with a hidden_<l>.bin on disk, ascending
  void remove_all();                       // the job succeeded: nothing left behind

 private:
  void ensure_dir();
  void prune();
  std::string dir_, fingerprint_;
  int64_t rows_, cols_;
  int floor_ = 0;
  bool dir_ready_ = false;
};

}  // namespace mixq::calib
