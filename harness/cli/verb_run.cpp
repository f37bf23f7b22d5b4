// `gpcbench run SCENARIO [options]`: one measured scenario. Scenarios register their
// subcommands in harness/scenarios (scenario_registry.cpp); this file only hosts them.
#include "cli/verbs.hpp"
#include "scenarios/scenario_registry.hpp"

namespace gpc::cli {

void add_run_verb(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Run one measured scenario, print a table, optionally write the result (--json)");
  cmd->require_subcommand(1);
  scenarios::register_scenarios(*cmd, exit_code);
}

}  // namespace gpc::cli
