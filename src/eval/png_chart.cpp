#include "eval/png_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace mixq::eval {

namespace {

uint32_t crc32(const uint8_t* p, size_t n, uint32_t crc = 0) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s += char((v >> (8 * i)) & 0xFF);
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, uint32_t(data.size()));
  std::string td = std::string(type, 4) + data;
  out += td;
  put32(out, crc32(reinterpret_cast<const uint8_t*>(td.data()), td.size()));
}

// 5x7 glyphs, one byte per row, bit 4 = leftmost column.
struct Glyph { char c; uint8_t rows[7]; };
const Glyph kFont[] = {
  {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}}, {'2', {14, 17, 1, 2, 4, 8, 31}},
  {'3', {31, 2, 4, 2, 1, 17, 14}}, {'4', {2, 6, 10, 18, 31, 2, 2}}, {'5', {31, 16, 30, 1, 1, 17, 14}},
  {'6', {6, 8, 16, 30, 17, 17, 14}}, {'7', {31, 1, 2, 4, 8, 8, 8}}, {'8', {14, 17, 17, 14, 17, 17, 14}},
  {'9', {14, 17, 17, 15, 1, 2, 12}}, {'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}},
  {'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {28, 18, 17, 17, 17, 18, 28}}, {'E', {31, 16, 16, 30, 16, 16, 31}},
  {'F', {31, 16, 16, 30, 16, 16, 16}}, {'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}},
  {'I', {14, 4, 4, 4, 4, 4, 14}}, {'J', {7, 2, 2, 2, 2, 18, 12}}, {'K', {17, 18, 20, 24, 20, 18, 17}},
  {'L', {16, 16, 16, 16, 16, 16, 31}}, {'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}},
  {'O', {14, 17, 17, 17, 17, 17, 14}}, {'P', {30, 17, 17, 30, 16, 16, 16}}, {'Q', {14, 17, 17, 17, 21, 18, 13}},
  {'R', {30, 17, 17, 30, 20, 18, 17}}, {'S', {15, 16, 16, 14, 1, 1, 30}}, {'T', {31, 4, 4, 4, 4, 4, 4}},
  {'U', {17, 17, 17, 17, 17, 17, 14}}, {'V', {17, 17, 17, 17, 17, 10, 4}}, {'W', {17, 17, 17, 21, 21, 21, 10}},
  {'X', {17, 17, 10, 4, 10, 17, 17}}, {'Y', {17, 17, 17, 10, 4, 4, 4}}, {'Z', {31, 1, 2, 4, 8, 16, 31}},
  {'.', {0, 0, 0, 0, 0, 12, 12}}, {':', {0, 12, 12, 0, 12, 12, 0}}, {'%', {24, 25, 2, 4, 8, 19, 3}},
  {'-', {0, 0, 0, 31, 0, 0, 0}}, {'_', {0, 0, 0, 0, 0, 0, 31}}, {'+', {0, 4, 4, 31, 4, 4, 0}},
  {'/', {0, 1, 2, 4, 8, 16, 0}}, {'(', {2, 4, 8, 8, 8, 4, 2}}, {')', {8, 4, 2, 2, 2, 4, 8}},
  {'=', {0, 0, 31, 0, 31, 0, 0}}, {' ', {0, 0, 0, 0, 0, 0, 0}}, {'?', {14, 17, 1, 2, 4, 0, 4}},
};

const Glyph& glyph(char c) {
  c = char(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& g : kFont)
    if (g.c == c) return g;
  return kFont[sizeof kFont / sizeof kFont[0] - 1];
}

struct Canvas {
  int w, h;
  std::vector<uint8_t> px;
  Canvas(int w_, int h_) : w(w_), h(h_), px(size_t(w_) * size_t(h_) * 3, 255) {}
  void rect(int x0, int y0, int x1, int y1, uint32_t rgb) {
    for (int y = std::max(0, y0); y < std::min(h, y1); ++y)
      for (int x = std::max(0, x0); x < std::min(w, x1); ++x) {
        uint8_t* p = &px[(size_t(y) * size_t(w) + size_t(x)) * 3];
        p[0] = uint8_t(rgb >> 16); p[1] = uint8_t(rgb >> 8); p[2] = uint8_t(rgb);
      }
  }
  // Text at scale s (each font pixel s x s), 6*s pixels per character.
  void text(int x, int y, const std::string& s, int scale, uint32_t rgb) {
    for (char c : s) {
      const Glyph& g = glyph(c);
      for (int r = 0; r < 7; ++r)
        for (int col = 0; col < 5; ++col)
          if (g.rows[r] & (16 >> col)) rect(x + col * scale, y + r * scale, x + (col + 1) * scale, y + (r + 1) * scale, rgb);
      x += 6 * scale;
    }
  }
};

}  // namespace

std::string encode_png_rgb(int width, int height, const std::vector<uint8_t>& rgb) {
  std::string out = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put32(ihdr, uint32_t(width));
  put32(ihdr, uint32_t(height));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit, RGB, deflate, filter 0, no interlace
  chunk(out, "IHDR", ihdr);
  // Raw scanlines, each with filter byte 0.
  std::string raw;
  const size_t row = size_t(width) * 3;
  for (int y = 0; y < height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(&rgb[size_t(y) * row]), row);
  }
  std::string z = "\x78\x01";
  for (size_t off = 0; off < raw.size() || off == 0;) {
    size_t n = std::min<size_t>(65535, raw.size() - off);
    bool last = off + n >= raw.size();
    z += char(last ? 1 : 0);
    z += char(n & 0xFF); z += char(n >> 8);
    z += char(~n & 0xFF); z += char((~n >> 8) & 0xFF);
    z.append(raw, off, n);
    off += n;
    if (last) break;
  }
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) { a = (a + c) % 65521; b = (b + a) % 65521; }
  put32(z, (b << 16) | a);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", "");
  return out;
}

std::string render_bar_chart_png(const std::string& title, const std::vector<ChartBar>& bars) {
  const int scale = 2, row_h = 40, top = 60, left = 300, right_pad = 220, bar_w = 500;
  const int W = left + bar_w + right_pad, H = top + row_h * int(std::max<size_t>(1, bars.size())) + 40;
  Canvas cv(W, H);
  cv.text(16, 16, title.substr(0, size_t((W - 32) / (6 * scale))), scale, 0x202020);
  for (int g = 0; g <= 4; ++g) {  // grid at 0, 25, 50, 75, 100 %
    int x = left + bar_w * g / 4;
    cv.rect(x, top - 6, x + 1, H - 30, 0xD0D0D0);
    std::string lab = fmt::format("{}%", g * 25);
    cv.text(x - int(lab.size()) * 6 * scale / 2, H - 24, lab, scale, 0x606060);
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    int y = top + int(i) * row_h;
    std::string lab = b.label.size() > 23 ? b.label.substr(0, 22) + "." : b.label;
    cv.text(16, y + 8, lab, scale, 0x202020);
    int len = int(std::clamp(b.accuracy, 0.0, 1.0) * bar_w + 0.5);
    cv.rect(left, y + 4, left + len, y + 26, 0x3B6FB6);
    int tl = int(std::clamp(b.truncated, 0.0, 1.0) * bar_w + 0.5);
    cv.rect(left, y + 28, left + tl, y + 32, 0xE08A1E);
    cv.text(left + bar_w + 10, y + 8, fmt::format("{:.2f}% N={}", b.accuracy * 100, b.n), scale, 0x202020);
  }
  return encode_png_rgb(W, H, cv.px);
}

}  // namespace mixq::eval
