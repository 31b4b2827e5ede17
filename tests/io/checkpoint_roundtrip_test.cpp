// Round trip through the streaming writer (tiny model -> 4 MiB shards -> read back), the index,
// writer resume, and bad sharded directories.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/safetensors_writer.h"
#include "io_test_util.h"
#include "util/file_util.h"

namespace fs = std::filesystem;
using namespace mixq;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

const std::string kTiny = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2";

std::vector<TensorSpec> specs_of(const Checkpoint& ck) {
  std::vector<TensorSpec> specs;
  for (const auto& sh : ck.shards())
    for (const auto& t : sh->tensors()) specs.push_back({t.name, t.dtype, t.shape});
  return specs;
}

void copy_all(const Checkpoint& ck, SafetensorsWriter& w) {
  for (const auto& s : w.specs()) {
    if (!w.needed(s.name)) {
      w.skip_tensor(s.name);
      continue;
    }
    auto v = ck.view(s.name);
    // Stream in uneven pieces to exercise begin/append/end.
    w.begin_tensor(s.name);
    size_t off = 0, piece = 1000;
    while (off < v.nbytes) {
      size_t n = std::min(piece, v.nbytes - off);
      w.append(v.data + off, n);
      off += n;
      piece = piece * 3 + 7;
    }
    w.end_tensor();
  }
  w.finish();
}

std::string file_bytes(const std::string& p) { return read_file(p); }

}  // namespace

TEST(CheckpointRoundTrip, TinyModelShardedAt4MiB) {
  Checkpoint src(kTiny);
  auto dir = mixq::testing::temp_dir("roundtrip");
  auto specs = specs_of(src);
  WriterOptions opt;
  opt.max_shard_bytes = 4ull << 20;
  {
    SafetensorsWriter w(dir, specs, opt);
    EXPECT_GT(w.num_shards(), 5u);
    copy_all(src, w);
  }
  Checkpoint out(dir);
  EXPECT_GT(out.shards().size(), 5u);
  ASSERT_EQ(out.names(), src.names());
  for (const auto& n : src.names()) {
    auto a = src.view(n), b = out.view(n);
    EXPECT_EQ(a.dtype, b.dtype) << n;
    EXPECT_EQ(a.shape, b.shape) << n;
    ASSERT_EQ(a.nbytes, b.nbytes) << n;
    EXPECT_EQ(0, std::memcmp(a.data, b.data, a.nbytes)) << n;
  }
  for (const auto& sh : out.shards()) {
    EXPECT_LE(sh->mapped().size() - sh->data_start(), 4ull << 20) << sh->path();
    EXPECT_EQ(sh->metadata().at("format"), "pt");
    EXPECT_EQ(sh->data_start() % 8, 0u);
  }
  // The index: total_size = every tensor's bytes; weight_map names each tensor's shard.
  auto idx = nlohmann::json::parse(read_file(dir + "/model.safetensors.index.json"));
  EXPECT_EQ(idx["metadata"]["total_size"].get<uint64_t>(), src.tensor_bytes());
  EXPECT_EQ(idx["weight_map"].size(), src.tensor_count());
  for (const auto& n : src.names()) {
    std::string shard = idx["weight_map"][n].get<std::string>();
    EXPECT_EQ(out.shard_of(n).path(), dir + "/" + shard);
    EXPECT_THAT(shard, ::testing::MatchesRegex("model-000[0-9][0-9]-of-000[0-9][0-9]\\.safetensors"));
  }
  // One shard: the same bytes as the source file (same order, same header) and no index.
  auto one = mixq::testing::temp_dir("roundtrip_one");
  {
    SafetensorsWriter w(one, specs);
    copy_all(src, w);
  }
  EXPECT_FALSE(file_exists(one + "/model.safetensors.index.json"));
  Checkpoint single(one + "/model.safetensors");
  EXPECT_EQ(single.names(), src.names());
  fs::remove_all(dir);
  fs::remove_all(one);
}

TEST(CheckpointRoundTrip, ResumeReusesCompleteShardsAndRewritesStrayTmp) {
  Checkpoint src(kTiny);
  auto dir = mixq::testing::temp_dir("resume");
  auto specs = specs_of(src);
  WriterOptions opt;
  opt.max_shard_bytes = 4ull << 20;
  std::vector<std::string> files;
  {
    SafetensorsWriter w(dir, specs, opt);
    copy_all(src, w);
    for (size_t s = 0; s < w.num_shards(); ++s) files.push_back(dir + "/" + w.shard_file_name(s));
  }
  std::map<std::string, std::string> before;
  for (const auto& f : files) before[f] = file_bytes(f);
  before[dir + "/model.safetensors.index.json"] = file_bytes(dir + "/model.safetensors.index.json");

  // A killed run: shard 1 complete, shard 2 left as a half-written .tmp, shard 3 corrupt (wrong
  // size), the rest and the index missing.
  auto mtime0 = fs::last_write_time(files[0]);
  fs::rename(files[1], files[1] + ".tmp");
  fs::resize_file(files[1] + ".tmp", 12345);
  fs::resize_file(files[2], 100);
  for (size_t i = 3; i < files.size(); ++i) fs::remove(files[i]);
  fs::remove(dir + "/model.safetensors.index.json");

  size_t skipped = 0;
  {
    SafetensorsWriter w(dir, specs, opt);
    EXPECT_TRUE(w.shard_done(0));
    for (size_t s = 1; s < w.num_shards(); ++s) EXPECT_FALSE(w.shard_done(s)) << s;
    for (const auto& s : specs) skipped += !w.needed(s.name);
    copy_all(src, w);
  }
  EXPECT_GT(skipped, 0u);
  EXPECT_EQ(fs::last_write_time(files[0]), mtime0);
  EXPECT_FALSE(fs::exists(files[1] + ".tmp"));
  for (const auto& [f, bytes] : before) EXPECT_TRUE(file_bytes(f) == bytes) << f;
  fs::remove_all(dir);
}

TEST(CheckpointRoundTrip, AbandonedWriterLeavesNoPartialFile) {
  auto dir = mixq::testing::temp_dir("abandon");
  std::vector<TensorSpec> specs = {{"a", DType::F32, {4}}, {"b", DType::F32, {4}}};
  {
    SafetensorsWriter w(dir, specs);
    float x[4] = {};
    w.write("a", x, sizeof x);
    EXPECT_THROW(w.write("c", x, sizeof x), InputError);  // out of declared order
    w.begin_tensor("b");
    EXPECT_THROW(w.append(x, 20), InputError);            // more bytes than the shape holds
  }
  EXPECT_TRUE(fs::is_empty(dir));
  {
    SafetensorsWriter w(dir, specs);
    float x[4] = {};
    w.write("a", x, sizeof x);
    EXPECT_THROW(w.finish(), InputError);  // 'b' never written
  }
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_THROW(SafetensorsWriter(dir, {{"a", DType::F32, {1}}, {"a", DType::F32, {1}}}), InputError);
  fs::remove_all(dir);
}

TEST(CheckpointErrors, BadIndexAndShards) {
  auto dir = mixq::testing::temp_dir("badindex");
  std::vector<TensorSpec> specs = {
      {"a", DType::F32, {256}}, {"b", DType::F32, {256}}, {"c", DType::F32, {256}}, {"d", DType::F32, {256}}};
  WriterOptions opt;
  opt.max_shard_bytes = 2048;  // shards {a, b} and {c, d}
  {
    SafetensorsWriter w(dir, specs, opt);
    std::vector<float> z(256);
    for (const auto& s : specs) w.write(s.name, z.data(), 1024);
    w.finish();
  }
  const std::string index = dir + "/model.safetensors.index.json";
  const std::string good = read_file(index);
  auto error_of = [&](const std::string& idx) {
    write_file_atomic(index, idx);
    try {
      Checkpoint ck(dir);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error_of(good), "accepted");
  auto j = nlohmann::json::parse(good);
  auto k = j;
  k["weight_map"]["b"] = "model-00009-of-00009.safetensors";  // and 'a' stays in shard 1
  EXPECT_THAT(error_of(k.dump()), AllOf(HasSubstr(index), HasSubstr("model-00009-of-00009.safetensors"), HasSubstr("does not exist")));
  k = j;
  k["weight_map"]["b"] = "model-00002-of-00002.safetensors";
  EXPECT_THAT(error_of(k.dump()), AllOf(HasSubstr("'b'"), HasSubstr("lives in"), HasSubstr("model-00001-of-00002")));
  k = j;
  k["weight_map"]["zzz"] = "model-00001-of-00002.safetensors";
  EXPECT_THAT(error_of(k.dump()), AllOf(HasSubstr("'zzz'"), HasSubstr("not in it")));
  k = j;
  k["weight_map"].erase("d");
  EXPECT_THAT(error_of(k.dump()), AllOf(HasSubstr("'d'"), HasSubstr("missing from weight_map")));
  k = j;
  k["weight_map"]["a"] = "../x.safetensors";
  EXPECT_THAT(error_of(k.dump()), HasSubstr("not a file in this directory"));
  k = j;
  k["weight_map"] = nlohmann::json::object();
  EXPECT_THAT(error_of(k.dump()), HasSubstr("weight_map"));
  EXPECT_THAT(error_of("{\"weight_map\": "), AllOf(HasSubstr(index), HasSubstr("invalid JSON")));
  EXPECT_THAT(error_of("{}"), HasSubstr("weight_map"));

  // A corrupt shard is named, whichever way in.
  write_file_atomic(index, good);
  fs::resize_file(dir + "/model-00002-of-00002.safetensors", 50);
  EXPECT_THAT(error_of(good), HasSubstr("model-00002-of-00002.safetensors"));

  // Without an index, a tensor present in two files is an error naming both.
  auto dup = mixq::testing::temp_dir("dup");
  for (const char* prefix : {"x", "y"}) {
    SafetensorsWriter w(dup, {{"t", DType::U8, {1}}}, WriterOptions{1ull << 30, {}, prefix});
    w.write("t", "q", 1);
    w.finish();
  }
  try {
    Checkpoint ck(dup);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("'t'"), HasSubstr("x.safetensors"), HasSubstr("y.safetensors")));
  }
  EXPECT_THROW(Checkpoint{dir + "/nope"}, InputError);
  fs::remove_all(dir);
  fs::remove_all(dup);
}
