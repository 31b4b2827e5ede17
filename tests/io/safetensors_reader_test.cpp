// Header validation: every malformed input is an InputError naming the file, the tensor and what
// was expected; valid headers give zero-copy views into the mapping.
#include "io/safetensors_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "io/checkpoint.h"
#include "io/mapped_file.h"
#include "io_test_util.h"

using namespace mixq;
using mixq::testing::safetensors_image;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

std::string parse_error(const std::string& image) {
  try {
    parse_safetensors_header(reinterpret_cast<const uint8_t*>(image.data()), image.size(), "bad.safetensors");
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one line: " << m;
    return m;
  }
  ADD_FAILURE() << "accepted: " << image.substr(8);
  return "";
}

SafetensorsHeader parse(const std::string& image) {
  return parse_safetensors_header(reinterpret_cast<const uint8_t*>(image.data()), image.size(), "ok.safetensors");
}

const std::string k8(8, '\x01');

}  // namespace

TEST(SafetensorsReader, ParsesTensorsMetadataAndPadding) {
  std::string h = R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
                  R"("a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"e":{"dtype":"I64","shape":[0,3],"data_offsets":[12,12]}})";
  h += "    ";  // padding spaces are allowed
  auto hd = parse(safetensors_image(h, std::string(12, '\0')));
  ASSERT_EQ(hd.tensors.size(), 3u);
  EXPECT_EQ(hd.tensors[0].name, "a");  // data order
  EXPECT_EQ(hd.tensors[1].name, "b");
  EXPECT_EQ(hd.tensors[2].shape, (Shape{0, 3}));
  EXPECT_EQ(hd.metadata.at("format"), "pt");
  EXPECT_EQ(hd.data_start, 8 + h.size());
}

TEST(SafetensorsReader, ScalarAndEveryDtype) {
  const char* names[] = {"BF16", "F16", "F32", "F64", "F8_E4M3", "F8_E5M2", "I8", "U8", "I16", "I32", "I64", "BOOL"};
  const uint64_t sizes[] = {2, 2, 4, 8, 1, 1, 1, 1, 2, 4, 8, 1};
  for (size_t i = 0; i < 12; ++i) {
    std::string h = std::string(R"({"s":{"dtype":")") + names[i] + R"(","shape":[],"data_offsets":[0,)" +
                    std::to_string(sizes[i]) + "]}}";
    auto hd = parse(safetensors_image(h, std::string(sizes[i], '\0')));
    EXPECT_EQ(hd.tensors[0].shape, Shape{});
    EXPECT_EQ(dtype_size(hd.tensors[0].dtype), sizes[i]);
  }
}

TEST(SafetensorsReader, RejectsTruncatedAndBadLengths) {
  EXPECT_THAT(parse_error(std::string(5, '\0')), AllOf(HasSubstr("bad.safetensors"), HasSubstr("truncated")));
  std::string h = R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})";
  EXPECT_THAT(parse_error(safetensors_image(h, k8, 1000)), AllOf(HasSubstr("bad.safetensors"), HasSubstr("past the end")));
  EXPECT_THAT(parse_error(safetensors_image(h, k8, 1ull << 40)), HasSubstr("exceeds"));
  EXPECT_THAT(parse_error(safetensors_image(h, k8, ~1ull)), HasSubstr("header length"));
  // Data truncated: the tensor's end lies past the end of the file.
  EXPECT_THAT(parse_error(safetensors_image(h, "1234")), AllOf(HasSubstr("'a'"), HasSubstr("past the data section")));
  // Trailing bytes after the last tensor.
  EXPECT_THAT(parse_error(safetensors_image(h, k8 + "xx")), HasSubstr("trailing"));
}

TEST(SafetensorsReader, RejectsBadOffsets) {
  auto img = [](const std::string& a, const std::string& b, size_t data) {
    return safetensors_image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":)" + a +
                                 R"(},"b":{"dtype":"U8","shape":[4],"data_offsets":)" + b + "}}",
                             std::string(data, '\0'));
  };
  EXPECT_THAT(parse_error(img("[0,4]", "[2,6]", 8)), AllOf(HasSubstr("'b'"), HasSubstr("overlap")));
  EXPECT_THAT(parse_error(img("[0,4]", "[0,4]", 8)), HasSubstr("overlap"));
  EXPECT_THAT(parse_error(img("[0,4]", "[6,10]", 10)), AllOf(HasSubstr("'b'"), HasSubstr("gap")));
  EXPECT_THAT(parse_error(img("[0,4]", "[4,100]", 8)), AllOf(HasSubstr("'b'"), HasSubstr("past the data section")));
  EXPECT_THAT(parse_error(img("[4,0]", "[4,8]", 8)), AllOf(HasSubstr("'a'"), HasSubstr("begin")));
  EXPECT_THAT(parse_error(img("[0,-4]", "[4,8]", 8)), HasSubstr("data_offsets"));
  EXPECT_THAT(parse_error(img("[0]", "[4,8]", 8)), HasSubstr("data_offsets"));
  EXPECT_THAT(parse_error(img("[0,18446744073709551615]", "[4,8]", 8)), HasSubstr("'a'"));
}

TEST(SafetensorsReader, RejectsByteCountDisagreeingWithShape) {
  std::string h = R"({"w":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,10]}})";
  EXPECT_THAT(parse_error(safetensors_image(h, std::string(10, '\0'))),
              AllOf(HasSubstr("'w'"), HasSubstr("10 bytes"), HasSubstr("BF16"), HasSubstr("[3, 2]"), HasSubstr("12")));
  // numel overflow must not wrap around to a small, matching byte count.
  std::string big = R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}})";
  EXPECT_THAT(parse_error(safetensors_image(big, "")), HasSubstr("overflow"));
  std::string neg = R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})";
  EXPECT_THAT(parse_error(safetensors_image(neg, "")), HasSubstr("shape"));
}

TEST(SafetensorsReader, RejectsUnknownDtypesJsonAndDuplicates) {
  EXPECT_THAT(parse_error(safetensors_image(R"({"w":{"dtype":"F4","shape":[1],"data_offsets":[0,1]}})", "x")),
              AllOf(HasSubstr("'w'"), HasSubstr("unknown dtype 'F4'")));
  EXPECT_THAT(parse_error(safetensors_image(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]})", "x")),
              AllOf(HasSubstr("bad.safetensors"), HasSubstr("not valid JSON")));
  EXPECT_THAT(parse_error(safetensors_image("[1,2]", "")), HasSubstr("'{'"));
  EXPECT_THAT(parse_error(safetensors_image(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                            R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                            "xy")),
              AllOf(HasSubstr("'w'"), HasSubstr("twice")));
  EXPECT_THAT(parse_error(safetensors_image(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})", "x")),
              HasSubstr("unknown field 'x'"));
  EXPECT_THAT(parse_error(safetensors_image(R"({"w":{"shape":[1],"data_offsets":[0,1]}})", "x")), HasSubstr("dtype"));
  EXPECT_THAT(parse_error(safetensors_image(R"({"w":{"dtype":"U8","data_offsets":[0,1]}})", "x")), HasSubstr("shape"));
  EXPECT_THAT(parse_error(safetensors_image(R"({"__metadata__":{"a":1}})", "")), HasSubstr("__metadata__"));
  EXPECT_THAT(parse_error(safetensors_image(R"({"w":[1]})", "")), HasSubstr("'w'"));
}

TEST(SafetensorsFile, ViewsAreZeroCopyIntoTheMapping) {
  auto dir = mixq::testing::temp_dir("zero_copy");
  std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";
  float two[2] = {1.5f, -2.0f};
  std::string data(reinterpret_cast<const char*>(two), 8);
  data += "xyz";
  mixq::testing::write_bytes(dir + "/m.safetensors", safetensors_image(h, data));
  SafetensorsFile f(dir + "/m.safetensors");
  auto a = f.view("a");
  EXPECT_EQ(a.data, f.mapped().data() + f.data_start());
  EXPECT_EQ(a.to_f32(), (std::vector<float>{1.5f, -2.0f}));
  auto b = f.view("b");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data), 3), "xyz");
  // pread path: whole tensor and a sub-range, same bytes as the view.
  char got[3] = {};
  f.read(*f.find("b"), got);
  EXPECT_EQ(std::string(got, 3), "xyz");
  f.read(*f.find("b"), got, 1, 1);
  EXPECT_EQ(got[0], 'y');
  float back[2];
  f.read(*f.find("a"), back);
  EXPECT_EQ(std::memcmp(back, a.data, 8), 0);
  EXPECT_THROW(f.view("c"), InputError);
  EXPECT_THROW(SafetensorsFile{dir + "/missing.safetensors"}, InputError);
  EXPECT_THROW(SafetensorsFile{dir}, InputError);  // a directory is not a file
  std::filesystem::remove_all(dir);
}

// Residency::Ram holds the same bytes as the mapping, read-only; a file that cannot be read is
// one InputError naming it.
TEST(MappedFileRam, SameBytesAsTheMapping) {
  const std::string path = std::string(MIXQ_SOURCE_DIR) + "/models/tiny-minimax-m2/model.safetensors";
  MappedFile mapped(path), ram(path, Residency::Ram);
  ASSERT_EQ(ram.size(), mapped.size());
  EXPECT_EQ(std::memcmp(ram.data(), mapped.data(), mapped.size()), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ram.data()) % (uintptr_t(2) << 20), 0u) << "2 MB aligned";
  EXPECT_EQ(ram.residency(), Residency::Ram);
  EXPECT_EQ(mapped.huge_page_bytes(), 0u);
  EXPECT_LE(ram.huge_page_bytes(), ram.size() + (size_t(4) << 20));
  SafetensorsFile f(path, Residency::Ram);
  EXPECT_FALSE(f.tensors().empty());
  try {
    MappedFile missing("/nonexistent/x.safetensors", Residency::Ram);
    ADD_FAILURE() << "opened a missing file";
  } catch (const InputError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("/nonexistent/x.safetensors"));
  }
}
