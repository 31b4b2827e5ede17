// mixq: one executable, many subcommands (see command.h). Exit codes: 0 success, 1 a check found
// problems (e.g. validate), 2 bad input or usage (one line on stderr naming what and where),
// 130 interrupted (Ctrl-C).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <unistd.h>

#include "cli/command.h"
#include "cli/command_suggest.h"
#include "util/error.h"
#include "util/log.h"

namespace mixq::cli {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
}  // namespace mixq::cli

namespace {

// Written from the signal handler, so prepared before: only write() and _exit() are safe there.
std::string g_interrupt_line = "\nmixq: interrupted\n";

extern "C" void on_interrupt(int sig) {
  ssize_t r = ::write(2, g_interrupt_line.data(), g_interrupt_line.size());
  (void)r;
  ::_exit(128 + sig);
}

// The subcommand the user asked for: the first word that is not one of the global flags. Empty
// when there is none (mixq, mixq --help, mixq --version).
std::string first_command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-q" || a == "--quiet" || a == "-v" || a == "--verbose") continue;
    if (!a.empty() && a[0] == '-') return "";
    return a;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mixq;
  // The usage line says `mixq`, whatever path the binary was started by.
  CLI::App app{"mixq: mixed-precision MoE quantization, validation and inference", "mixq"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mixq ") + MIXQ_VERSION);
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  std::map<CLI::App*, cli::RunFn> runs;
  std::vector<std::string> names;
  for (auto& c : cli::registry()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    sub->fallthrough();  // -q / -v also after the subcommand (`mixq quantize ... -v`)
    runs[sub] = c.setup(*sub);
    names.push_back(c.name);
  }
  // An unknown command would otherwise read "A subcommand is required".
  if (const std::string w = first_command_word(argc, argv); !w.empty() && std::find(names.begin(), names.end(), w) == names.end()) {
    std::string hint = w == "version" ? std::string("--version") : cli::did_you_mean(w, names);
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "mixq: error: unknown command '%s'%s (commands: %s; see mixq --help)\n", w.c_str(),
                 hint.empty() ? "" : (" (did you mean '" + hint + "'?)").c_str(), known.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "mixq: error: %s (see --help)\n", e.what());  // usage errors: one line, exit 2
    return 2;
  }
  if (quiet) set_log_level(LogLevel::Warn);
  if (verbose) set_log_level(LogLevel::Debug);
  for (auto& [sub, run] : runs)
    if (sub->parsed()) {
      // Work is written through temp files and renames, so an interrupted run leaves nothing half-written;
      // quantize resumes from its last completed step.
      g_interrupt_line = sub->get_name() == "quantize"
                             ? "\nmixq: quantize interrupted; run the same command again to resume where it stopped\n"
                             : "\nmixq: " + sub->get_name() + " interrupted\n";
      std::signal(SIGINT, on_interrupt);
      std::signal(SIGTERM, on_interrupt);
    }
  try {
    for (auto& [sub, run] : runs)
      if (sub->parsed()) return run();
  } catch (const InputError& e) {
    std::fprintf(stderr, "mixq: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "mixq: error: out of memory\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixq: error: %s\n", e.what());
    return 2;
  }
  return 2;
}
