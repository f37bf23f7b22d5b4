// Runs invalidators on their own (optionally pinned) threads at a target rate or free-
// running, until a duration passes, stop() is called or gpc::stop_requested(), and
// collects per-invalidator statistics for result files.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/duration.hpp"
#include "common/histogram.hpp"
#include "invalidators/invalidator.hpp"

namespace gpc {

struct BenchmarkRecord;

struct InvalidatorStats {
  InvalidatorType type{};
  Target target{};
  uint64_t ops = 0;
  double seconds = 0;            // the thread's loop time
  double ops_per_s() const { return seconds > 0 ? ops / seconds : 0; }
  Histogram op_ns;               // the memory operation
  Histogram bracket_ns;          // range_start -> range_end, incl. hold
  uint64_t pfn_changed = 0, thp_changed = 0, unverified = 0, content_lost = 0, op_failed = 0;

  void add(const StepResult& r);
};

namespace trace {
class HostOpLog;
}

struct RunnerOptions {
  double rate_hz = 0;  // per invalidator; 0 = free-running
  // When set, invalidator i's thread stamps every step (CLOCK_MONOTONIC before and after,
  // its thread id) into slot i, so the kernel's notifier events can be matched to the
  // operation that caused them (trace/host_ops.hpp). Lock-free; must outlive the runner's
  // threads and have a slot per invalidator.
  trace::HostOpLog* op_log = nullptr;
};

class InvalidatorRunner {
 public:
  // `pus[i]` is the OS PU for invalidator i (-1 or missing = unpinned).
  InvalidatorRunner(std::vector<std::unique_ptr<Invalidator>> invalidators, std::vector<int> pus,
                    RunnerOptions options = {});
  ~InvalidatorRunner();  // stops and joins
  InvalidatorRunner(const InvalidatorRunner&) = delete;
  InvalidatorRunner& operator=(const InvalidatorRunner&) = delete;

  void start();
  // Requests the threads to stop, joins them, then rethrows the first error a thread hit.
  void stop();
  // start(), wait for `duration` (or a stop request), stop().
  void run_for(Nanos duration);
  bool running() const { return !threads_.empty(); }

  // Valid after stop(): one entry per invalidator, in construction order.
  const std::vector<InvalidatorStats>& stats() const { return stats_; }
  // Adds the CONTRACTS.md inval_* counters (totals and per type, e.g. inval_mremap_ops) and
  // histograms["inval"] (start->end, ns) to `record`.
  void add_counters(BenchmarkRecord& record) const;

 private:
  void thread_main(size_t index);

  std::vector<std::unique_ptr<Invalidator>> invalidators_;
  std::vector<int> pus_;
  RunnerOptions options_;
  std::vector<std::thread> threads_;
  std::vector<InvalidatorStats> stats_;
  std::atomic<bool> stop_flag_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

// The counter name of `type` in a result (dashes become underscores): "inval_mmap_fixed_".
std::string counter_prefix(InvalidatorType type);

}  // namespace gpc
