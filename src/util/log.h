// Logging to stderr. Quiet in CI (CI=true) and when stderr is not a terminal, except warnings/errors.
#pragma once
#include <fmt/format.h>

#include <cstdio>

namespace mixq {

enum class LogLevel { Debug, Info, Warn, Error };
void set_log_level(LogLevel l);
LogLevel log_level();
bool stderr_is_tty();
bool running_in_ci();

template <typename... Args>
void log(LogLevel l, fmt::format_string<Args...> f, Args&&... args) {
  if (l < log_level()) return;
  static const char* kTag[] = {"debug", "info", "warning", "error"};
  std::fprintf(stderr, "mixq: %s: %s\n", kTag[int(l)], fmt::format(f, std::forward<Args>(args)...).c_str());
}
#define MIXQ_INFO(...) ::mixq::log(::mixq::LogLevel::Info, __VA_ARGS__)
#define MIXQ_WARN(...) ::mixq::log(::mixq::LogLevel::Warn, __VA_ARGS__)
#define MIXQ_DEBUG(...) ::mixq::log(::mixq::LogLevel::Debug, __VA_ARGS__)

}  // namespace mixq
