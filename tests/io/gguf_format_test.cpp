// GGUF writer -> reader round trip (every metadata type, offsets, alignment, data), and hostile or
// truncated files: every prefix of a valid file and targeted corruptions are an InputError naming
// the file and field (never a crash, never a huge allocation).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "io/gguf_reader.h"
#include "io/gguf_writer.h"
#include "io_test_util.h"
#include "util/error.h"
#include "util/file_util.h"

using namespace mixq;
using namespace mixq::gguf;
using ::testing::HasSubstr;

namespace {

std::string write_sample(const std::string& dir, uint32_t alignment = 32) {
  Writer w(alignment);
  w.set("general.architecture", Value::string("minimax-m2"));
  w.set("a.u32", Value::u32(7));
  w.set("a.u16", Value::u16(65535));
  w.set("a.i32", Value::i32(-5));
  w.set("a.f32", Value::f32(1.5f));
  w.set("a.bool", Value::boolean(true));
  w.set("a.strs", Value::string_array({"x", "", "hello world"}));
  w.set("a.i32s", Value::array(ValueType::I32, std::vector<int32_t>{1, -2, 3}));
  w.set("a.u32", Value::u32(8));  // replaces, keeps position
  w.declare("t.f32", TensorType::F32, {3});
  w.declare("t.q4", TensorType::Q4_0, {64, 2});
  w.declare("t.bf16", TensorType::BF16, {5, 1, 1});
  std::string path = dir + "/sample.gguf";
  w.begin(path);
  float f[3] = {1, 2, 3};
  w.write(f, sizeof f);
  std::vector<uint8_t> q(4 * kQ4_0Bytes);
  for (size_t i = 0; i < q.size(); ++i) q[i] = uint8_t(i * 7);
  w.write(q.data(), 10);  // data may arrive in any pieces, across tensor boundaries
  std::vector<uint8_t> rest(q.begin() + 10, q.end());
  for (int i = 0; i < 10; ++i) rest.push_back(uint8_t(100 + i));  // t.bf16's 10 bytes
  w.write(rest.data(), rest.size());
  w.finish();
  return path;
}

}  // namespace

TEST(GgufFormat, RoundTrip) {
  std::string dir = mixq::testing::temp_dir("gguf_rt");
  for (uint32_t align : {32u, 64u}) {
    std::string path = write_sample(dir, align);
    File g(path);
    EXPECT_EQ(g.version(), 3u);
    EXPECT_EQ(g.alignment(), align);
    EXPECT_EQ(g.get_string("general.architecture"), "minimax-m2");
    EXPECT_EQ(g.get_u32("a.u32"), 8u);
    EXPECT_EQ(g.get("a.u16", ValueType::U16).u, 65535u);
    EXPECT_EQ(g.get("a.i32", ValueType::I32).i, -5);
    EXPECT_EQ(g.get("a.f32", ValueType::F32).f, 1.5);
    EXPECT_EQ(g.get("a.bool", ValueType::BOOL).u, 1u);
    const Value& s = g.get("a.strs", ValueType::ARRAY);
    ASSERT_EQ(s.elem, ValueType::STRING);
    EXPECT_EQ(s.strs, (std::vector<std::string>{"x", "", "hello world"}));
    const Value& iv = g.get("a.i32s", ValueType::ARRAY);
    ASSERT_EQ(iv.count(), 3u);
    EXPECT_EQ(iv.at<int32_t>(1), -2);
    EXPECT_EQ(g.metadata()[1].first, "a.u32");
    ASSERT_EQ(g.tensors().size(), 3u);
    const TensorInfo* q = g.tensor("t.q4");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->type_name, "Q4_0");
    EXPECT_EQ(q->nbytes, 4 * kQ4_0Bytes);
    EXPECT_EQ(q->offset, align_up(12, align));
    EXPECT_EQ(g.data_start() % align, 0u);
    for (size_t i = 0; i < q->nbytes; ++i) ASSERT_EQ(g.data(*q)[i], uint8_t(i * 7)) << i;
    float f[3];
    std::memcpy(f, g.data(*g.tensor("t.f32")), 12);
    EXPECT_EQ(f[2], 3.0f);
    EXPECT_EQ(g.data(*g.tensor("t.bf16"))[9], 109);
    EXPECT_EQ(g.tensor("t.bf16")->ne, (std::vector<int64_t>{5, 1, 1}));
    EXPECT_FALSE(file_exists(temp_name_for(path)));
  }
  std::filesystem::remove_all(dir);
}

TEST(GgufFormat, UnfinishedWriterLeavesNothing) {
  std::string dir = mixq::testing::temp_dir("gguf_unfinished");
  {
    Writer w;
    w.declare("t", TensorType::F32, {4});
    w.begin(dir + "/x.gguf");
    float f = 1;
    w.write(&f, 4);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

TEST(GgufFormat, EveryTruncationIsAnInputError) {
  std::string dir = mixq::testing::temp_dir("gguf_trunc");
  std::string good = read_file(write_sample(dir));
  const auto& t = File(dir + "/sample.gguf").tensors().back();
  (void)t;
  int errors = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    std::string p = dir + "/cut.gguf";
    mixq::testing::write_bytes(p, good.substr(0, n));
    try {
      File g(p);
      // A cut inside the last tensor's trailing padding is still a complete file.
      EXPECT_GE(n, g.data_start() + g.tensors().back().offset + g.tensors().back().nbytes) << n;
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr(p));
      ++errors;
    }
  }
  EXPECT_GT(errors, int(good.size()) - 32);
  std::filesystem::remove_all(dir);
}

namespace {

// Builds a header by hand so each field can be made hostile.
struct Raw {
  std::string s;
  template <typename T>
  Raw& put(T v) { s.append(reinterpret_cast<const char*>(&v), sizeof v); return *this; }
  Raw& str(const std::string& v) { put<uint64_t>(v.size()); s += v; return *this; }
};

std::string expect_error(const std::string& dir, const std::string& bytes) {
  std::string p = dir + "/bad.gguf";
  mixq::testing::write_bytes(p, bytes);
  try {
    File g(p);
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr(p));
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

Raw header(int64_t n_tensors, int64_t n_kv) {
  Raw r;
  r.put<uint32_t>(kMagic).put<uint32_t>(3).put<int64_t>(n_tensors).put<int64_t>(n_kv);
  return r;
}

}  // namespace

TEST(GgufFormat, HostileFields) {
  std::string dir = mixq::testing::temp_dir("gguf_hostile");
  EXPECT_THAT(expect_error(dir, "GGUX1234"), HasSubstr("not a GGUF"));
  EXPECT_THAT(expect_error(dir, Raw().put<uint32_t>(kMagic).put<uint32_t>(99).s), HasSubstr("version 99"));
  EXPECT_THAT(expect_error(dir, header(0, int64_t(1) << 60).s), HasSubstr("metadata count"));
  EXPECT_THAT(expect_error(dir, header(-1, 0).s), HasSubstr("tensor count"));
  EXPECT_THAT(expect_error(dir, header(0, 1).put<uint64_t>(~0ull).s + std::string(16, 'x')), HasSubstr("key of metadata entry 0"));
  EXPECT_THAT(expect_error(dir, header(0, 1).str("k").put<int32_t>(77).s + std::string(16, 'x')), HasSubstr("unknown value type 77"));
  EXPECT_THAT(expect_error(dir, header(0, 1).str("k").put<int32_t>(9).put<int32_t>(8).put<uint64_t>(uint64_t(1) << 62).s + std::string(16, 'x')),
              HasSubstr("claims"));
  EXPECT_THAT(expect_error(dir, header(0, 1).str("k").put<int32_t>(9).put<int32_t>(4).put<uint64_t>(uint64_t(1) << 62).s + std::string(16, 'x')),
              HasSubstr("claims"));
  EXPECT_THAT(expect_error(dir, header(0, 1).str("k").put<int32_t>(9).put<int32_t>(9).put<uint64_t>(1).s + std::string(16, 'x')),
              HasSubstr("element type 9"));
  EXPECT_THAT(expect_error(dir, header(0, 1).str("general.alignment").put<int32_t>(4).put<uint32_t>(48).s), HasSubstr("power of 2"));
  EXPECT_THAT(expect_error(dir, header(0, 2).str("k").put<int32_t>(4).put<uint32_t>(1).str("k").put<int32_t>(4).put<uint32_t>(1).s),
              HasSubstr("appears twice"));
  auto tensor = [&](uint32_t nd, std::vector<int64_t> ne, int32_t type, uint64_t off) {
    Raw r = header(1, 0);
    r.str("w").put<uint32_t>(nd);
    for (auto n : ne) r.put<int64_t>(n);
    r.put<int32_t>(type).put<uint64_t>(off);
    r.s += std::string(64, '\0');
    return r.s;
  };
  EXPECT_THAT(expect_error(dir, tensor(5, {1, 1, 1, 1, 1}, 0, 0)), HasSubstr("5 dimensions"));
  EXPECT_THAT(expect_error(dir, tensor(1, {-4}, 0, 0)), HasSubstr("negative"));
  EXPECT_THAT(expect_error(dir, tensor(2, {int64_t(1) << 40, int64_t(1) << 40}, 0, 0)), HasSubstr("overflows"));
  EXPECT_THAT(expect_error(dir, tensor(1, {4}, 1234, 0)), HasSubstr("ggml type 1234"));
  EXPECT_THAT(expect_error(dir, tensor(1, {16}, 2, 0)), HasSubstr("not a multiple"));
  EXPECT_THAT(expect_error(dir, tensor(1, {4}, 0, 32)), HasSubstr("expected 0"));
  EXPECT_THAT(expect_error(dir, tensor(1, {1 << 20}, 0, 0)), HasSubstr("past the end"));
  std::filesystem::remove_all(dir);
}

// A GGUF written by llama.cpp's own tools (the shared test asset), read and sized without error.
TEST(GgufFormat, ReadsAThirdPartyFile) {
  std::string dir = std::string(MIXQ_SHARED_DIR) + "/assets/tiny-models/llama-2-tiny-random-gguf";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir;
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".gguf") continue;
    File g(e.path().string());
    EXPECT_EQ(g.get_string("general.architecture"), "llama");
    EXPECT_GT(g.tensors().size(), 0u);
    const auto& last = g.tensors().back();
    EXPECT_LE(g.data_start() + last.offset + last.nbytes, g.file_bytes());
    ++files;
  }
  EXPECT_GT(files, 0);
}
