// The AWQ per-layer resume state and the hidden-state spill (issue 6): the state file reader rejects
// bad magic, truncated, padded, foreign (fingerprint) and corrupt (payload hash, header fields)
// files without reading out of bounds; the store keeps at most two states (the one at the resume
// floor and the newest); reports round-trip to identical JSON text; the spill keeps values and
// leaves no file behind; a pipeline restarted on the same state resumes and hands out the same
// tensors and report.
#include "calib/awq_resume_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "calib/awq_pipeline.h"
#include "calib/hidden_spill.h"
#include "io/checkpoint.h"
#include "model/tensor_table.h"
#include "util/file_util.h"

namespace mixq::calib {
namespace {

namespace fs = std::filesystem;

const std::string kFp(64, 'a'), kOther(64, 'b');

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/mixq_awq_state_XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<float> pattern(int64_t n, float seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = std::sin(float(i) * 0.37f + seed) * 100.0f;
  return v;
}

void overwrite(const std::string& path, uint64_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(offset));
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

TEST(AwqHiddenState, RoundTripsExactly) {
  TempDir d;
  const std::string p = d.path + "/hidden_3.bin";
  auto v = pattern(7 * 5, 1.0f);
  write_hidden_state(p, 3, kFp, v.data(), 7, 5);
  EXPECT_EQ(file_size(p), kHiddenStateHeaderBytes + v.size() * 4);
  std::vector<float> out(v.size(), 0.0f);
  StateLoad r = read_hidden_state(p, 3, kFp, 7, 5, out.data());
  ASSERT_EQ(r.status, StateCheck::Ok) << r.why;
  EXPECT_EQ(std::memcmp(out.data(), v.data(), v.size() * 4), 0);
  EXPECT_EQ(read_hidden_state(d.path + "/hidden_9.bin", 9, kFp, 7, 5, out.data()).status, StateCheck::Missing);
}

TEST(AwqHiddenState, RejectsBadMagicTruncationPaddingAndCorruption) {
  TempDir d;
  const std::string p = d.path + "/hidden_1.bin";
  auto v = pattern(16 * 8, 2.0f);
  std::vector<float> out(v.size());
  auto check = [&](StateCheck want, const char* what) {
    StateLoad r = read_hidden_state(p, 1, kFp, 16, 8, out.data());
    EXPECT_EQ(r.status, want) << what << ": " << r.why;
    if (want == StateCheck::Corrupt) {
      EXPECT_NE(r.why.find(p), std::string::npos) << "the reason names the file";
    }
  };
  write_hidden_state(p, 1, kFp, v.data(), 16, 8);
  overwrite(p, 0, "NOTMIXQ!");
  check(StateCheck::Corrupt, "bad magic");
  for (uint64_t keep : {uint64_t(0), uint64_t(10), uint64_t(kHiddenStateHeaderBytes), uint64_t(kHiddenStateHeaderBytes + 100)}) {
    write_hidden_state(p, 1, kFp, v.data(), 16, 8);
    fs::resize_file(p, keep);
    check(StateCheck::Corrupt, "truncated");
  }
  write_hidden_state(p, 1, kFp, v.data(), 16, 8);
  fs::resize_file(p, file_size(p) + 4);
  check(StateCheck::Corrupt, "padded");
  write_hidden_state(p, 1, kFp, v.data(), 16, 8);
  overwrite(p, kHiddenStateHeaderBytes + 200, "\x7f");
  check(StateCheck::Corrupt, "payload bit flip");
  // Hostile header: a huge shape must not be believed (the caller's shape rules).
  write_hidden_state(p, 1, kFp, v.data(), 16, 8);
  int64_t huge = int64_t(1) << 60;
  overwrite(p, 16, std::string(reinterpret_cast<const char*>(&huge), 8));
  check(StateCheck::Corrupt, "hostile rows");
  // A state of another layer renamed into place.
  write_hidden_state(p, 2, kFp, v.data(), 16, 8);
  check(StateCheck::Corrupt, "layer mismatch");
  // Same everything but written for other inputs / options: foreign, not corrupt.
  write_hidden_state(p, 1, kOther, v.data(), 16, 8);
  check(StateCheck::Foreign, "fingerprint mismatch");
  // The expected shape differs from the file's (e.g. another calibration set with the same hash
  // cannot happen, but the reader still refuses rather than over-reading).
  write_hidden_state(p, 1, kFp, v.data(), 16, 8);
  StateLoad r = read_hidden_state(p, 1, kFp, 8, 8, out.data());
  EXPECT_EQ(r.status, StateCheck::Corrupt);
}

TEST(AwqResumeStateStore, KeepsTheFloorStateAndTheNewestOnly) {
  TempDir d;
  AwqResumeState s(d.path + "/st", kFp, 4, 3);
  auto v = pattern(12, 0.0f);
  s.save_hidden(1, v.data());
  s.save_hidden(2, v.data());
  EXPECT_EQ(s.hidden_layers(), (std::vector<int>{2})) << "floor 0: only the newest";
  s.set_floor(2);
  s.save_hidden(3, v.data());
  s.save_hidden(4, v.data());
  EXPECT_EQ(s.hidden_layers(), (std::vector<int>{2, 4})) << "the floor's state and the newest";
  s.set_floor(4);
  s.save_hidden(5, v.data());
  EXPECT_EQ(s.hidden_layers(), (std::vector<int>{4, 5}));
  // A floor between kept states keeps the newest state at or below it.
  s.set_floor(5);
  s.save_hidden(6, v.data());
  EXPECT_EQ(s.hidden_layers(), (std::vector<int>{5, 6}));
}

TEST(AwqResumeStateStore, LoadsTheNewestValidStateAtOrBelowTheAskedLayer) {
  TempDir d;
  AwqResumeState s(d.path, kFp, 4, 3);
  auto a = pattern(12, 1.0f), b = pattern(12, 2.0f);
  s.set_floor(2);
  s.save_hidden(2, a.data());
  s.save_hidden(5, b.data());
  std::vector<float> out(12);
  std::string from;
  EXPECT_EQ(s.load_newest_hidden(5, out.data(), &from), 5);
  EXPECT_EQ(from, s.hidden_path(5));
  EXPECT_EQ(std::memcmp(out.data(), b.data(), 48), 0);
  EXPECT_EQ(s.load_newest_hidden(4, out.data()), 2) << "state 5 is past the asked layer";
  EXPECT_EQ(std::memcmp(out.data(), a.data(), 48), 0);
  EXPECT_EQ(s.load_newest_hidden(1, out.data()), std::nullopt);
  // A truncated newest state falls back to the older one and is deleted.
  fs::resize_file(s.hidden_path(5), 100);
  EXPECT_EQ(s.load_newest_hidden(9, out.data()), 2);
  EXPECT_FALSE(fs::exists(s.hidden_path(5)));
  // A state of other inputs is ignored too.
  AwqResumeState other(d.path, kOther, 4, 3);
  EXPECT_EQ(other.load_newest_hidden(9, out.data()), std::nullopt);
}

TEST(AwqResumeStateStore, ReportsRoundTripToIdenticalTextAndRejectForeignOrBroken) {
  TempDir d;
  AwqResumeState s(d.path, kFp, 4, 3);
  nlohmann::ordered_json r;
  r["layer"] = 3;
  r["tokens"] = 123;
  r["loss"] = 0.1 + 0.2;  // not exactly representable in short decimal
  r["tiny"] = 1.2345678901234567e-300;
  r["z_before_a"] = {1.0f / 3.0f, true, nullptr};
  r["a"] = "x";
  s.save_report(3, r);
  auto back = s.load_report(3);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->dump(2), r.dump(2));
  EXPECT_FALSE(s.load_report(4));
  AwqResumeState other(d.path, kOther, 4, 3);
  EXPECT_FALSE(other.load_report(3));
  write_file_atomic(s.report_path(3), "{\"fingerprint\": \"");
  EXPECT_FALSE(s.load_report(3));
  write_file_atomic(s.report_path(3), "[1,2]");
  EXPECT_FALSE(s.load_report(3));
  s.save_report(2, r);
  fs::rename(s.report_path(2), s.report_path(5));
  EXPECT_FALSE(s.load_report(5)) << "a report renamed to another layer";
  s.remove_all();
  EXPECT_FALSE(fs::exists(d.path));
}

TEST(HiddenSpill, KeepsValuesInAFileBackedMappingAndLeavesNoFile) {
  TempDir d;
  Matrix m(1000, 1024);  // 3.9 MiB
  auto v = pattern(m.numel(), 3.0f);
  std::copy(v.begin(), v.end(), m.data.begin());
  auto sp = HiddenSpill::attach(m, d.path + "/st");
  ASSERT_TRUE(sp);
  EXPECT_GE(sp->bytes(), uint64_t(m.numel()) * 4 - 8192);
  EXPECT_TRUE(sp->covers(m));
  EXPECT_EQ(std::memcmp(m.data.data(), v.data(), v.size() * 4), 0);
  for (auto& x : m.data) x += 1.0f;
  sp->release_resident();  // pages leave the resident set; values must come back from the file
  for (size_t i = 0; i < v.size(); i += 997) EXPECT_EQ(m.data[i], v[i] + 1.0f);
  EXPECT_TRUE(fs::is_empty(d.path + "/st")) << "the spill file is unlinked";
  Matrix moved = std::move(m);
  EXPECT_TRUE(sp->covers(moved));
  moved = Matrix(1000, 1024);
  EXPECT_FALSE(sp->covers(moved));
}

// End to end on the tiny model: a pipeline computes layers 0..3 and saves its state; a second one
// (a restarted job) asked for layer 3 resumes from the state entering layer 3 and hands out the
// same smoothed tensors and the same report.
TEST(AwqPipelineResume, RestartedPipelineResumesAndMatches) {
  TempDir d;
  const std::string tiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";
  AwqPipelineOptions o;
  o.calib_spec = std::string(MIXQ_SOURCE_DIR) + "/data/calib/default.yaml";
  o.calib_samples = 2;
  o.calib_seq_len = 64;
  o.w2_gram_loss = true;
  o.state_dir = d.path + "/state";
  const std::string norm3 = names::post_attention_norm(3) + ".weight";
  std::vector<float> first(256), second(256);
  nlohmann::ordered_json rep1;
  {
    AwqPipeline p(tiny, o);
    p.resume_point(names::layer(3) + ".input_layernorm.weight");
    ASSERT_TRUE(p.transform_dense(norm3, first));
    rep1 = p.report();
  }
  ASSERT_EQ(rep1["layers"].size(), 4u);
  AwqResumeState probe(o.state_dir, std::string(64, '0'), 1, 1);
  EXPECT_EQ(probe.hidden_layers(), (std::vector<int>{3})) << "floor 3: only the state entering layer 3";
  {
    AwqPipeline p(tiny, o);
    EXPECT_EQ(p.report().dump(), rep1.dump()) << "every computed layer's report from the state";
    ASSERT_TRUE(p.transform_dense(norm3, second));
    EXPECT_EQ(std::memcmp(first.data(), second.data(), 256 * 4), 0);
    EXPECT_EQ(p.report().dump(), rep1.dump());
    p.discard_state();
  }
  EXPECT_FALSE(fs::exists(o.state_dir));
  // Other options: the state is not used (a different fingerprint), the result still right.
  {
    AwqPipeline p(tiny, o);
    ASSERT_TRUE(p.transform_dense(norm3, second));
    AwqPipelineOptions o2 = o;
    o2.n_grid = 10;
    AwqPipeline q(tiny, o2);
    EXPECT_EQ(q.report()["layers"].size(), 0u) << "reports of other options are not used";
  }
}

}  // namespace
}  // namespace mixq::calib
