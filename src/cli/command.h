// Subcommand registry. Each src/cli/<name>.cpp defines one subcommand and registers it with
// MIXQ_COMMAND; main.cpp knows none of them by name. A command adds its options to the CLI11
// subcommand in `setup` and returns the run function (exit code) bound to them.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mixq::cli {

using RunFn = std::function<int()>;
using SetupFn = std::function<RunFn(CLI::App&)>;

struct Command {
  std::string name, help;
  SetupFn setup;
};

std::vector<Command>& registry();

// --no-mmap, shared by the commands that run the engine: the model's shards are read into RAM
// backed by 2 MB huge pages instead of being mapped (io/mapped_file.h). Adds the flag to `app`.
inline void add_no_mmap_flag(CLI::App& app, bool& no_mmap) {
  app.add_flag("--no-mmap", no_mmap,
               "Read the weights into RAM backed by 2 MB huge pages instead of mapping the files: slower load, "
               "RAM = checkpoint size, faster decode (fewer page walks)");
}

struct Registrar {
  Registrar(std::string name, std::string help, SetupFn setup) {
    registry().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

}  // namespace mixq::cli

#define MIXQ_CONCAT2(a, b) a##b
#define MIXQ_CONCAT(a, b) MIXQ_CONCAT2(a, b)
#define MIXQ_COMMAND(name, help, setup) \
  static ::mixq::cli::Registrar MIXQ_CONCAT(mixq_cmd_, __LINE__)(name, help, setup)
