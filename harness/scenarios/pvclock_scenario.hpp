// `gpcbench run pvclock` (layer K): N vCPUs, each rewriting MSR_KVM_SYSTEM_TIME_NEW in a
// loop so KVM refreshes its pvclock page through the vCPU's gfn_to_pfn_cache, and
// checking every page it reads back (guests/pvclock.c).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/histogram.hpp"
#include "results/result_file.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::scenarios {

struct PvclockParams {
  RunOptions run;
  int vcpus = 1;
  std::vector<int> pus;  // OS PU per vCPU (-1: unpinned); empty: round_robin_pus()
  Nanos sync_interval = std::chrono::milliseconds(10);
  Nanos watchdog = std::chrono::seconds(2);
};

struct PvclockVcpuResult {
  int vcpu = 0;
  int pu = -1;
  uint64_t updates = 0;
  uint64_t odd = 0, backwards = 0, stale = 0, retries = 0, unstable_backwards = 0;
  uint64_t max_ns = 0;
  uint64_t last_ns = 0;
  double seconds = 0;
  double cpu_ns = 0;
  Histogram latency;
  uint64_t violations() const { return odd + backwards + stale; }
};

struct PvclockResult {
  std::vector<PvclockVcpuResult> vcpus;
  uint64_t clock_outside = 0;  // guest times outside [KVM_GET_CLOCK before, after]
  bool interrupted = false;    // Ctrl-C/SIGTERM ended the run early
  BenchmarkRecord record;      // the whole run, counters per CONTRACTS.md
  nlohmann::json run;          // context["run"]
  uint64_t violations() const;
};

// Throws UnavailableError when KVM cannot run it, UsageError for bad parameters, and
// GuestAssertionError / HungVcpuError / SystemError when the run itself fails.
PvclockResult run_pvclock(const PvclockParams& params);

void print_pvclock_table(const PvclockResult& result);

void add_pvclock_scenario(CLI::App& run, int& exit_code);

}  // namespace gpc::scenarios
