#include "eval/needle.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "util/error.h"

namespace mixq::eval {

namespace {

const char* kNoise = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";
const char* kWords[] = {"amber", "brisk", "cobalt", "dune", "ember", "fjord", "granite", "harbor", "ivory", "jasper",
                        "kettle", "lantern", "meadow", "nimbus", "orchid", "pebble", "quartz", "ripple", "saffron",
                        "thistle", "umber", "velvet", "willow", "yarrow", "zephyr", "bramble", "cinder", "drift"};

std::string render(const std::string& key, const std::string& context) {
  return "Some special magic numbers are hidden within the following text. Make sure to memorize it. I will quiz "
         "you about the numbers afterwards.\n" +
         context + "\nWhat is the special magic number for " + key + " mentioned in the provided text?";
}

std::string haystack(size_t units, size_t needle_at, const std::string& needle) {
  std::string s;
  for (size_t i = 0; i <= units; ++i) {
    if (i == needle_at) s += needle + " ";
    if (i < units) s += kNoise;
  }
  return s;
}

}  // namespace

std::vector<NeedleItem> build_needle_items(const std::vector<int64_t>& lengths, const std::vector<double>& depths,
                                           uint64_t seed, const TokenCounter& count) {
  // Values from a fixed generator and plain modulo (std distributions differ between libraries).
  std::mt19937_64 rng(seed);
  const size_t nwords = sizeof kWords / sizeof kWords[0];
  const size_t per10 = std::max<size_t>(1, count(std::string(kNoise) + kNoise + kNoise + kNoise + kNoise + kNoise +
                                                 kNoise + kNoise + kNoise + kNoise));
  std::vector<NeedleItem> items;
  for (int64_t len : lengths) {
    for (double depth : depths) {
      NeedleItem it;
      it.length = len;
      it.depth = depth;
      it.key = fmt::format("{}-{}", kWords[rng() % nwords], kWords[rng() % nwords]);
      it.value = std::to_string(1000000 + rng() % 9000000);
      it.id = fmt::format("needle/{}/{:g}", len, depth);
      const std::string needle = "One of the special magic numbers for " + it.key + " is: " + it.value + ".";
      const size_t base = count(render(it.key, needle));
      if (int64_t(base) >= len) fail("--needle-lengths {}: shorter than the question and needle ({} tokens)", len, base);
      size_t units = size_t(double(len - int64_t(base)) * 10.0 / double(per10));
      // Fit by measuring: the token count of joined text is close to, not exactly, the sum.
      for (int round = 0; round < 8; ++round) {
        size_t at = size_t(std::llround(depth / 100.0 * double(units)));
        it.prompt = render(it.key, haystack(units, at, needle));
        it.tokens = int64_t(count(it.prompt));
        if (it.tokens <= len) {
          size_t room = size_t(len - it.tokens) * 10 / per10;
          if (room == 0) break;
          units += room;
        } else {
          size_t over = size_t(it.tokens - len) * 10 / per10 + 1;
          units = units > over ? units - over : 0;
        }
      }
      if (it.tokens > len) {  // the last step grew past the length: take one unit less until it fits
        while (units > 0 && it.tokens > len) {
          --units;
          size_t at = size_t(std::llround(depth / 100.0 * double(units)));
          it.prompt = render(it.key, haystack(units, at, needle));
          it.tokens = int64_t(count(it.prompt));
        }
      }
      items.push_back(std::move(it));
    }
  }
  return items;
}

}  // namespace mixq::eval
