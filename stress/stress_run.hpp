// `gpcbench stress`: runs every combination of the plan as a bounded `gpcbench run`
// subprocess, judges each (verdict.hpp) and reports TAP or a table.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/duration.hpp"
#include "stress/combinations.hpp"

namespace gpc::stress {

struct StressOptions {
  std::filesystem::path runner;                 // the binary that implements `run`
  Nanos total = std::chrono::seconds(60);       // split across the runnable combinations
  Nanos min_each = std::chrono::milliseconds(500);
  // Added to each run's duration for its bound: process start, environment capture, VM
  // setup and teardown (a pvclock run with 2 vCPUs needs ~1 s of it here).
  Nanos grace = std::chrono::seconds(10);
  uint64_t seed = 1;   // combination i runs with seed + i
  std::string filter;  // substring of the combination id
  bool tap = false;
  bool progress_tty = false;  // draw a progress bar on stderr
};

// The machine's answer for the plan: probe_features() of this machine, the runner's own
// `run SCENARIO --help` (a scenario or flag it lacks is skipped with that reason) and the
// invalidator probe on memfd guest memory. `work` holds the help output.
Availability probe_availability(const std::filesystem::path& runner, const std::filesystem::path& work);

// The runner's help for `run SCENARIO`, written to `log`; "" when the runner has no such
// scenario (a CLI11 parent prints its own help for an unknown subcommand, so the text must
// show the scenario's own usage line "... run SCENARIO ...").
std::string scenario_help(const std::filesystem::path& runner, const std::string& scenario,
                          const std::filesystem::path& log);

// Per-run duration: total / runnable, at least min_each.
Nanos per_combination(const StressOptions& o, size_t runnable);

// Runs the plan; returns 0 (no unexpected violation), 1 (any), 130/143 when interrupted by
// SIGINT/SIGTERM.
int run_stress(const std::vector<Combination>& plan, const StressOptions& o, std::FILE* out);

// `--list`: the plan with skip reasons, one line each.
void print_plan(const std::vector<Combination>& plan, std::FILE* out);

// A private temporary directory, removed with everything in it when it goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The shell command for argv (words quoted where needed), for reproduction lines.
std::string shell_command(const std::vector<std::string>& argv);

}  // namespace gpc::stress
