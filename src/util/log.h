// Logging to stderr. Quiet in CI (CI=true) and when stderr is not a terminal, except warnings/errors.
#pragma once
#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace mixq {

enum class LogLevel { Debug, Info, Warn, Error };
void set_log_level(LogLevel l);
LogLevel log_level();
bool stderr_is_tty();
bool running_in_ci();

// One line on stderr. A progress bar being drawn (util/progress.h) is cleared first and drawn again
// below, so log lines scroll above the bar instead of being written over it.
void write_log_line(const std::string& line);
// The progress bar's current text ("" when none is shown): written after every log line.
void set_progress_line(const std::string& text);

template <typename... Args>
void log(LogLevel l, fmt::format_string<Args...> f, Args&&... args) {
  if (l < log_level()) return;
  static const char* kTag[] = {"debug", "info", "warning", "error"};
  write_log_line(fmt::format("mixq: {}: {}", kTag[int(l)], fmt::format(f, std::forward<Args>(args)...)));
}
#define MIXQ_INFO(...) ::mixq::log(::mixq::LogLevel::Info, __VA_ARGS__)
#define MIXQ_WARN(...) ::mixq::log(::mixq::LogLevel::Warn, __VA_ARGS__)
#define MIXQ_DEBUG(...) ::mixq::log(::mixq::LogLevel::Debug, __VA_ARGS__)

}  // namespace mixq
