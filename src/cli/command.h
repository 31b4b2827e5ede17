// Subcommand registry. Each src/cli/<name>.cpp defines one subcommand and registers it with
// MIXQ_COMMAND; main.cpp knows none of them by name. A command adds its options to the CLI11
// subcommand in `setup` and returns the run function (exit code) bound to them.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/residency.h"

namespace mixq::cli {

using RunFn = std::function<int()>;
using SetupFn = std::function<RunFn(CLI::App&)>;

struct Command {
  std::string name, help;
  SetupFn setup;
};

std::vector<Command>& registry();

// --no-mmap / --mmap, shared by the commands that run the engine: the model's shards read into
// RAM backed by 2 MB huge pages, or mapped (io/mapped_file.h). Neither: io/residency.h decides
// (RAM when the checkpoints fit in half of the available memory).
struct ResidencyFlags {
  bool no_mmap = false, mmap = false;
};

inline void add_residency_flags(CLI::App& app, ResidencyFlags& f) {
  auto* ram = app.add_flag("--no-mmap", f.no_mmap,
                           "Read the weights into RAM backed by 2 MB huge pages: slower load, RAM = checkpoint size, "
                           "faster decode (default when the checkpoint fits in half of the available memory)");
  auto* map = app.add_flag("--mmap", f.mmap, "Map the weight files instead (default for a checkpoint that does not fit)");
  ram->excludes(map);
}

// The residency for these model directories, and a line saying why (for `mixq bench`).
inline ResidencyChoice resolve_residency(const ResidencyFlags& f, const std::vector<std::string>& dirs) {
  if (f.no_mmap) return {Residency::Ram, 0, 0, "read into RAM (--no-mmap)"};
  if (f.mmap) return {Residency::Mapped, 0, 0, "mapped (--mmap)"};
  return auto_residency(dirs);
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
