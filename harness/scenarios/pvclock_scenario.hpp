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
#include "env/features.hpp"
#include "invalidators/invalidator.hpp"
#include "invalidators/runner.hpp"
#include "results/result_file.hpp"
#include "scenarios/layer_k_invalidation.hpp"
#include "scenarios/placement_plan.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::scenarios {

// Where the guest data slot (the pvclock pages) lives by default: anonymous memory with
// MADV_HUGEPAGE. thp-split needs an anonymous THP (refused on memfd), thp-collapse and
// mremap work on it, and zap's content loss is harmless here because KVM rewrites the
// pvclock page on every update (the guest counts zeroed reads apart). See
// docs/kvm-and-guests.md.
inline constexpr BackingKind kPvclockDefaultBacking = BackingKind::anonymous;

// The invalidation fields (invalidators, target, rate_hz, hold, range_size, backing) come
// from InvalidationOptions, shared with xen-evtchn.
struct PvclockParams : InvalidationOptions {
  PvclockParams() { backing = kPvclockDefaultBacking; }
  RunOptions run;
  PlacementOptions placement;
  int vcpus = 1;
  Nanos sync_interval = std::chrono::milliseconds(10);
  Nanos watchdog = std::chrono::seconds(2);
};

// What probe() says about `type` against the pvclock page on `backing` (the scenario's
// region is MADV_HUGEPAGE'd wherever THP allows; zap's content loss is accepted).
ProbeResult probe_pvclock_invalidator(InvalidatorType type, Target target,
                                      BackingKind backing = kPvclockDefaultBacking);

struct PvclockVcpuResult {
  int vcpu = 0;
  int pu = -1;
  uint64_t updates = 0;
  uint64_t odd = 0, backwards = 0, stale = 0, retries = 0, unstable_backwards = 0;
  uint64_t disturbed = 0, zeroed = 0;  // anomalies while an invalidator step overlapped
  uint64_t max_ns = 0;
  uint64_t last_ns = 0;
  double seconds = 0;
  double cpu_ns = 0;
  Histogram latency;
  uint64_t violations() const { return odd + backwards + stale; }
};

struct PvclockResult {
  std::vector<PvclockVcpuResult> vcpus;
  Placement placement;
  std::vector<InvalidatorStats> invalidators;
  uint64_t clock_outside = 0;  // guest times outside [KVM_GET_CLOCK before, after]
  bool interrupted = false;    // Ctrl-C/SIGTERM ended the run early
  BenchmarkRecord record;      // the whole run, counters per CONTRACTS.md
  nlohmann::json run;          // context["run"]
  uint64_t violations() const;
};

// Throws UnavailableError when KVM cannot run it, UsageError for bad parameters, and
// GuestAssertionError / HungVcpuError / SystemError when the run itself fails.
PvclockResult run_pvclock(const PvclockParams& params);

// `gpcbench info`: one line per invalidator type and target against the pvclock page on the
// default backing ("pvclock:invalidator:zap/target:cache"), from the same probe the run
// makes; all "no" with the pvclock scenario's own reason when that cannot run.
std::vector<Feature> pvclock_invalidator_features(const Feature& pvclock_scenario);

void print_pvclock_table(const PvclockResult& result);

void add_pvclock_scenario(CLI::App& run, int& exit_code);

}  // namespace gpc::scenarios
