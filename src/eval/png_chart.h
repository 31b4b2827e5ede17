// The report's chart: one horizontal bar per task (accuracy, 0-100 %, with the truncated share
// as a thin orange bar under it), labelled with a built-in 5x7 bitmap font, written as an RGB
// PNG. The PNG is encoded here (zlib "stored" blocks, CRC-32, Adler-32): a bar chart compresses
// well enough without deflate, and no image library is needed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mixq::eval {

struct ChartBar {
  std::string label;
  double accuracy = 0, truncated = 0;  // fractions in [0, 1]
  int64_t n = 0;
};

std::string render_bar_chart_png(const std::string& title, const std::vector<ChartBar>& bars);
// The PNG container: signature + IHDR (8-bit RGB) + IDAT + IEND for `rgb` (width * height * 3).
std::string encode_png_rgb(int width, int height, const std::vector<uint8_t>& rgb);

}  // namespace mixq::eval
