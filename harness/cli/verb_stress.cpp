// PLACEHOLDER until its issue lands: registers the verb so the CLI contract is visible.
#include "cli/verbs.hpp"
#include "common/errors.hpp"

namespace gpc::cli {

void add_stress_verb(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("stress", "(not built yet)");
  cmd->allow_extras();
  cmd->callback([&exit_code] {
    exit_code = kExitUnusable;
    throw UnavailableError("'stress' is not built yet in this version of gpcbench");
  });
}

}  // namespace gpc::cli
