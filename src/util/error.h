// Errors. Bad input (a file, a recipe, a request) is the user's: throw InputError naming what and
// where; the CLI prints one line and exits 2, the server answers HTTP 400. Broken invariants inside
// the code are bugs: MIXQ_ASSERT aborts with the location.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace mixq {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw InputError(fmt::format(f, std::forward<Args>(args)...));
}

[[noreturn]] void assert_failed(const char* expr, const char* file, int line);

}  // namespace mixq

#define MIXQ_ASSERT(cond) \
  do { if (!(cond)) ::mixq::assert_failed(#cond, __FILE__, __LINE__); } while (0)
