#include "util/progress.h"

#include <fmt/format.h>

#include <cstdio>

#include "util/log.h"

namespace mixq {

bool Progress::enabled() { return stderr_is_tty() && !running_in_ci(); }

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), active_(enabled()),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(uint64_t n) { set(done_ + n); }

void Progress::set(uint64_t done) {
  done_ = done;
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!active_) return;
  draw(true);
  set_progress_line("");
  std::fputc('\n', stderr);
}

void Progress::draw(bool force) {
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  double el = std::chrono::duration<double>(now - start_).count();
  double frac = total_ ? double(done_) / double(total_) : 0.0;
  int width = 30, fill = int(frac * width);
  std::string bar(size_t(fill), '#');
  bar.resize(size_t(width), '.');
  std::string eta = (frac > 0 && frac < 1) ? human_duration(el / frac - el) : "--";
  std::string amount = unit_ == "B" ? fmt::format("{}/{}", human_bytes(double(done_)), human_bytes(double(total_)))
                                    : fmt::format("{}/{}{}", done_, total_, unit_.empty() ? "" : " " + unit_);
  const std::string line = fmt::format("{} [{}] {:5.1f}% {}  elapsed {}  ETA {}", label_, bar, frac * 100, amount,
                                        human_duration(el), eta);
  set_progress_line(line);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

std::string human_bytes(double b) {
  const char* u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int i = 0;
  while (b >= 1024 && i < 4) { b /= 1024; ++i; }
  return i == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.2f} {}", b, u[i]);
}

std::string human_duration(double s) {
  long t = long(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

}  // namespace mixq
