// gpcbench: one binary, six verbs (BRIEF §4). Exit codes: 0 ok, 1 violation or
// regression, 2 bad usage or unusable input/machine.
#include <cstdio>
#include <exception>

#include "cli/verbs.hpp"
#include "common/errors.hpp"
#include "common/stop.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "gpcbench: microbenchmarks and stress tests for KVM's gfn_to_pfn_cache.\n"
      "Measures how refreshes wait for MMU-notifier invalidations, in the running kernel\n"
      "(/dev/kvm guests) and in an embedded model with pluggable waiting strategies.",
      "gpcbench"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gpcbench " GPC_VERSION " (" GPC_GIT_COMMIT ")");

  int exit_code = gpc::kExitOk;
  gpc::cli::add_info_verb(app, exit_code);
  gpc::cli::add_run_verb(app, exit_code);
  gpc::cli::add_matrix_verb(app, exit_code);
  gpc::cli::add_report_verb(app, exit_code);
  gpc::cli::add_compare_verb(app, exit_code);
  gpc::cli::add_stress_verb(app, exit_code);
  gpc::cli::add_calibrate_verb(app, exit_code);

  gpc::install_stop_signal_handlers();
  // An error that surfaces after a stop signal is the interruption's consequence (a wait cut
  // short, "activating writer 0's cache failed: stopped"): the run was interrupted, 128 + N.
  auto failed = [](int code) { return gpc::stop_signal() != 0 ? 128 + gpc::stop_signal() : code; };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit 0; everything else is a usage error.
    const int rc = app.exit(e);
    return rc == 0 ? gpc::kExitOk : gpc::kExitUnusable;
  } catch (const gpc::UsageError& e) {
    std::fprintf(stderr, "gpcbench: error: %s\n", e.what());
    return failed(gpc::kExitUnusable);
  } catch (const gpc::UnavailableError& e) {
    std::fprintf(stderr, "gpcbench: cannot run: %s\n", e.what());
    return failed(gpc::kExitUnusable);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpcbench: failed: %s\n", e.what());
    return failed(gpc::kExitFailure);
  }
  // A run stopped by Ctrl-C has torn down; report it the shell's way (128 + signal).
  if (gpc::stop_signal() != 0 && exit_code == gpc::kExitOk) return 128 + gpc::stop_signal();
  return exit_code;
}
