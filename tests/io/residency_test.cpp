// The automatic weight residency (io/residency.h): RAM only when every checkpoint's .safetensors
// files together fit in half of the available memory; mapped otherwise, or when either is unknown.
#include "io/residency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io_test_util.h"

using namespace mixq;
using mixq::testing::temp_dir;
using mixq::testing::write_bytes;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

TEST(Residency, RamOnlyWhenTheWeightsFitInHalfOfTheAvailableMemory) {
  const std::string a = temp_dir("res_a"), b = temp_dir("res_b");
  write_bytes(a + "/model-00001-of-00002.safetensors", std::string(3000, 'x'));
  write_bytes(a + "/model-00002-of-00002.safetensors", std::string(1000, 'x'));
  write_bytes(a + "/config.json", std::string(5000, 'x'));  // not weights
  write_bytes(b + "/model.safetensors", std::string(2000, 'x'));

  ResidencyChoice c = auto_residency({a}, 8000);
  EXPECT_EQ(c.weight_bytes, 4000u);
  EXPECT_EQ(c.residency, Residency::Ram);
  EXPECT_THAT(c.why, StartsWith("read into RAM (auto: "));
  EXPECT_THAT(c.why, HasSubstr("--mmap"));

  c = auto_residency({a}, 7999);
  EXPECT_EQ(c.residency, Residency::Mapped);
  EXPECT_THAT(c.why, StartsWith("mapped (auto: "));
  EXPECT_THAT(c.why, HasSubstr("--no-mmap"));

  // two models loaded together (eval kld) count together
  EXPECT_EQ(auto_residency({a, b}, 12000).residency, Residency::Ram);
  EXPECT_EQ(auto_residency({a, b}, 11999).residency, Residency::Mapped);
  EXPECT_EQ(auto_residency({a, b}, 12000).weight_bytes, 6000u);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

TEST(Residency, MappedWhenNothingIsKnown) {
  const std::string e = temp_dir("res_empty");
  ResidencyChoice c = auto_residency({e}, uint64_t(1) << 40);
  EXPECT_EQ(c.residency, Residency::Mapped) << "no weights found: the model's own load reports the error";
  EXPECT_EQ(auto_residency({e + "/missing"}, uint64_t(1) << 40).residency, Residency::Mapped);
  write_bytes(e + "/model.safetensors", "x");
  c = auto_residency({e}, 0);
  EXPECT_EQ(c.residency, Residency::Mapped) << "MemAvailable unknown";
  EXPECT_THAT(c.why, HasSubstr("unknown"));
  std::filesystem::remove_all(e);
}

TEST(Residency, ReadsThisMachinesAvailableMemory) {
  const std::string e = temp_dir("res_real");
  write_bytes(e + "/model.safetensors", "x");
  const ResidencyChoice c = auto_residency({e});
  EXPECT_GT(c.available_bytes, 0u) << "/proc/meminfo has MemAvailable on Linux";
  EXPECT_EQ(c.residency, Residency::Ram);
  std::filesystem::remove_all(e);
}

}  // namespace
