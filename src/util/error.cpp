#include "util/error.h"

#include <cstdio>
#include <cstdlib>

namespace mixq {

void assert_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "mixq: internal error: assertion `%s` failed at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace mixq
