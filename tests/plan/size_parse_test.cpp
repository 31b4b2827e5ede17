#include "plan/size_parse.h"

#include <gtest/gtest.h>

#include "util/error.h"

using namespace mixq;

TEST(SizeParse, BinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("128GiB", "x"), 137438953472ull);        // 128 * 2^30
  EXPECT_EQ(parse_size("120GB", "x"), 120000000000ull);
  EXPECT_EQ(parse_size("1.5TiB", "x"), 1649267441664ull);       // 1.5 * 2^40
  EXPECT_EQ(parse_size("0.5KiB", "x"), 512ull);
  EXPECT_EQ(parse_size("81559MiB", "x"), 81559ull << 20);
  EXPECT_EQ(parse_size("4096", "x"), 4096ull);                  // bare integer: bytes
  EXPECT_EQ(parse_size("2B", "x"), 2ull);
  EXPECT_EQ(parse_size("3.35TB", "x"), 3350000000000ull);
}

TEST(SizeParse, RejectsAnythingLoose) {
  for (const char* bad : {"", "GiB", "128 GiB", " 128GiB", "128GiB ", "-1GiB", "+1GiB", "128gib", "128gb", "1.2.3GB", "1.GB",
                          ".5GB", "0.3B", "1.0001KiB", "1.5", "0GiB", "128GiB/s", "1e9", "99999999999999999999999TiB"})
    EXPECT_THROW(parse_size(bad, "--device-memory"), InputError) << bad;
}

TEST(SizeParse, ErrorNamesOptionAndText) {
  try {
    parse_size("12 8GiB", "--device-memory");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--device-memory"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'12 8GiB'"), std::string::npos);
  }
}

TEST(SizeParse, Bandwidth) {
  EXPECT_DOUBLE_EQ(parse_bandwidth("256GB/s", "x"), 256e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("3.35TB/s", "x"), 3.35e12);
  EXPECT_DOUBLE_EQ(parse_bandwidth("1TiB/s", "x"), 1099511627776.0);
  for (const char* bad : {"256GB", "256 GB/s", "GB/s", "/s", "0GB/s", "256gb/s"}) EXPECT_THROW(parse_bandwidth(bad, "x"), InputError) << bad;
}

TEST(SizeParse, Formatting) {
  EXPECT_EQ(with_commas(155271743469ull), "155,271,743,469");
  EXPECT_EQ(with_commas(999), "999");
  EXPECT_EQ(format_gib(49928994816ull), "46.50 GiB");
  EXPECT_EQ(format_gb(49928994816ull), "49.93 GB");
}
