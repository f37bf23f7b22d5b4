// Pins the calling thread for one benchmark and restores its previous CPU set after:
// Google Benchmark runs thread 0 of every benchmark on the main thread, so a pin must not
// leak into the benchmarks that follow.
#pragma once

#include <sched.h>

#include <vector>

namespace gpc::bench {

// The OS PU numbers this process may run on (sched_getaffinity), ascending.
const std::vector<int>& allowed_pus();
// The PU benchmark thread `i` runs on: the allowed PUs round robin.
int spread_pu(int thread_index);
// How many reader threads the contended benchmarks go up to: max(2, allowed PUs).
int max_bench_threads();

class PinningScope {
 public:
  explicit PinningScope(int os_pu);  // throws what gpc::pin_current_thread throws
  ~PinningScope();
  PinningScope(const PinningScope&) = delete;
  PinningScope& operator=(const PinningScope&) = delete;

 private:
  cpu_set_t saved_;
  bool restore_ = false;
};

}  // namespace gpc::bench
