// One vCPU's "kernel" in `run cache`: a pinned thread that uses its pfn cache the way
// KVM code does (read_lock, check, write through khva, unlock; on a failed check unlock
// and refresh until check passes) and measures each wait for a valid cache.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/histogram.hpp"
#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/notifier_state.hpp"
#include "scenarios/co_runner.hpp"
#include "scenarios/collision_split.hpp"
#include "scenarios/thread_sched.hpp"

namespace gpc::scenarios {

struct WriterConfig {
  int index = 0;
  int pu = -1;                                   // OS PU to pin to; -1: unpinned
  pfncache::ContractChecker* checker = nullptr;  // null: plain writes (--no-checker)
  const std::atomic<bool>* go = nullptr;         // spin-free start barrier (all writers together)
  const std::atomic<bool>* stop = nullptr;       // set by the scenario at the deadline
  // The model's notifier: its active count at a failed check decides "collided" (collision_split.hpp).
  const pfncache::NotifierState* notifier = nullptr;
  const CoRunner* co_runner = nullptr;  // the co-runner sharing this writer's PU, if any
  double co_runner_alone_rate = 0;      // its units per second alone on that PU
};

struct WriterResult {
  int index = 0;
  int pu = -1;
  uint64_t iterations = 0;   // passes with a valid cache (one record update each)
  uint64_t waits = 0;        // failed checks that were waited out (latency samples)
  uint64_t posts = 0;        // events posted on channel 0
  uint64_t page_behind = 0;  // the page showed an older seq than the writer last posted
  uint64_t rechecks = 0;     // refresh said ok but check failed again (invalidated in between)
  uint64_t timeouts = 0;     // refreshes that hit Policy::refresh_bound: starved (livelock)
  uint64_t failures = 0;     // refreshes that failed otherwise (fault, inactive, deadlock)
  uint64_t null_skips = 0;   // accesses the checker skipped (valid cache, NULL khva)
  Histogram latency;         // failed check -> next successful check, ns (steady clock)
  uint64_t wait_cpu_ns = 0;  // CLOCK_THREAD_CPUTIME_ID over the same intervals
  CollisionSplit split;      // the same waits, collided apart from the others
  ThreadSchedDelta sched;    // the writer's run-queue wait and preemptions over its loop
  double seconds = 0;        // the loop's wall time
  // perf software counters of the whole loop; negative when unavailable.
  double task_clock_ns = -1;
  double context_switches = -1;
  double cycles = -1;          // hardware cycles of the writer loop; -1 where no PMU counts them
  std::string cycles_reason;   // why not, from harness/perf
};

// Runs until *config.stop or stop_requested(). Throws what pinning throws.
WriterResult run_writer(pfncache::Gpc& gpc, const WriterConfig& config);

}  // namespace gpc::scenarios
