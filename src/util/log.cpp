#include "util/log.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace mixq {

namespace {
LogLevel g_level = LogLevel::Info;
}

void set_log_level(LogLevel l) { g_level = l; }
LogLevel log_level() { return g_level; }
bool stderr_is_tty() { return isatty(2) != 0; }
bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::strcmp(ci, "0") != 0 && std::strcmp(ci, "false") != 0;
}

}  // namespace mixq
