// Every `gpcbench run` scenario registers its subcommand here; verb_run.cpp calls this.
#pragma once

#include <CLI/CLI.hpp>

namespace gpc::scenarios {

// Adds one subcommand per scenario to `run`. A scenario's callback stores its exit code
// (0 ok, 1 violations) in `exit_code` and throws UsageError/UnavailableError for exit 2.
void register_scenarios(CLI::App& run, int& exit_code);

}  // namespace gpc::scenarios
