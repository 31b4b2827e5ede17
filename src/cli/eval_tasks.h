// `mixq eval tasks` and `mixq eval compare`, added to the `eval` command by src/cli/eval.cpp.
#pragma once
#include <utility>

#include "cli/command.h"

namespace mixq::cli {

std::pair<CLI::App*, RunFn> add_eval_tasks(CLI::App& eval);
std::pair<CLI::App*, RunFn> add_eval_compare(CLI::App& eval);

}  // namespace mixq::cli
