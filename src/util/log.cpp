#include "util/log.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace mixq {

namespace {
LogLevel g_level = LogLevel::Info;
std::string g_progress;  // the bar on the terminal's last line, if any
}

void set_progress_line(const std::string& text) { g_progress = text; }

void write_log_line(const std::string& line) {
  if (!g_progress.empty()) std::fputs("\r\033[K", stderr);  // erase the bar, write the line, redraw it
  std::fprintf(stderr, "%s\n", line.c_str());
  if (!g_progress.empty()) std::fputs(g_progress.c_str(), stderr);
  std::fflush(stderr);
}

void set_log_level(LogLevel l) { g_level = l; }
LogLevel log_level() { return g_level; }
bool stderr_is_tty() { return isatty(2) != 0; }
bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::strcmp(ci, "0") != 0 && std::strcmp(ci, "false") != 0;
}

}  // namespace mixq
