// mixq: one executable, many subcommands (see command.h). Exit codes: 0 success, 1 a check found
// problems (e.g. validate), 2 bad input or usage (one line on stderr naming what and where).
#include <cstdio>
#include <exception>
#include <map>

#include "cli/command.h"
#include "util/error.h"
#include "util/log.h"

namespace mixq::cli {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
}  // namespace mixq::cli

int main(int argc, char** argv) {
  using namespace mixq;
  CLI::App app{"mixq: mixed-precision MoE quantization, validation and inference"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mixq ") + MIXQ_VERSION);
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  std::map<CLI::App*, cli::RunFn> runs;
  for (auto& c : cli::registry()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    runs[sub] = c.setup(*sub);
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
