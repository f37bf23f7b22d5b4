// gpcbench: one binary, seven verbs (BRIEF §4). Exit codes: 0 ok, 1 violation or
// regression, 2 bad usage or unusable input/machine (or output), 128 + signal when stopped.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "cli/strict_cli.hpp"
#include "cli/verbs.hpp"
#include "common/errors.hpp"
#include "common/stop.hpp"

namespace {

// Output lost to a full disk, a closed pipe reader or /dev/full must not pass for success
// (issue 15 item 7): flush both streams and look at their error state once, at the end.
int check_stdout(int exit_code) {
  std::cout.flush();
  errno = 0;
  const bool flush_failed = std::fflush(stdout) != 0;
  const int err = errno;
  if (!flush_failed && !std::ferror(stdout) && std::cout.good()) return exit_code;
  std::fprintf(stderr, "gpcbench: error: writing to standard output failed%s%s; the output is lost "
                       "(is the disk full, or the reader gone?)\n",
               err ? ": " : "", err ? std::strerror(err) : "");
  return exit_code == gpc::kExitOk ? gpc::kExitUnusable : exit_code;
}

// A closed stdout or stderr would hand its number to the next open() (a result file, the
// KVM device), and printf would then write into that file. Refuse to start instead.
bool standard_streams_open() {
  const bool out_open = ::fcntl(STDOUT_FILENO, F_GETFD) != -1;
  const bool err_open = ::fcntl(STDERR_FILENO, F_GETFD) != -1;
  if (!out_open && err_open)
    std::fprintf(stderr, "gpcbench: error: standard output is closed; redirect it to a file instead "
                         "(e.g. > out.txt)\n");
  return out_open && err_open;
}

int parse_and_run(CLI::App& app, int argc, char** argv, const int& exit_code) {
  // An error that surfaces after a stop signal is the interruption's consequence (a wait cut
  // short, "activating writer 0's cache failed: stopped"): the run was interrupted, 128 + N.
  auto failed = [](int code) { return gpc::stop_signal() != 0 ? 128 + gpc::stop_signal() : code; };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "gpcbench: error: %s\n", gpc::cli::explain_parse_error(app, e).c_str());
    return gpc::kExitUnusable;
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

}  // namespace

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
  gpc::cli::make_numbers_strict(app);

  if (!standard_streams_open()) return gpc::kExitUnusable;
  gpc::install_stop_signal_handlers();
  return check_stdout(parse_and_run(app, argc, argv, exit_code));
}
