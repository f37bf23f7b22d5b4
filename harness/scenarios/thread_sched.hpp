// The scheduler's own account of one thread, the evidence that a placement held (issue 14):
// /proc/self/task/<tid>/schedstat gives the time the thread ran and the time it sat on a
// run queue, runnable but not running (Documentation/scheduler/sched-stats.rst, "3) time
// spent waiting on a runqueue"); /proc/self/task/<tid>/status gives its involuntary context
// switches (nonvoluntary_ctxt_switches: preempted, not blocked). A waiter alone on its PU
// waits on no run queue and is rarely preempted; one sharing its PU shows both.
#pragma once

#include <cstdint>
#include <string>

namespace gpc::scenarios {

struct ThreadSched {
  bool ok = false;              // both files were readable (CONFIG_SCHED_INFO, procfs)
  uint64_t run_ns = 0;          // time on the CPU
  uint64_t runqueue_wait_ns = 0;
  uint64_t nonvoluntary_switches = 0;
};

// The calling thread's figures now; ok = false when a file is missing or malformed.
ThreadSched sample_thread_sched();
// Parses the two files' texts (tests feed them directly).
ThreadSched parse_thread_sched(const std::string& schedstat, const std::string& status);

// What a thread's figures did over an interval of `wall_ns`.
struct ThreadSchedDelta {
  bool ok = false;
  double runqueue_wait_share = 0;  // run-queue wait / wall time
  double nonvoluntary_per_s = 0;
};
ThreadSchedDelta sched_delta(const ThreadSched& before, const ThreadSched& after, double wall_ns);

}  // namespace gpc::scenarios
