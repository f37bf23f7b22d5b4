#include "pinning_scope.hpp"

#include <algorithm>

#include "topology/pinning.hpp"

namespace gpc::bench {

const std::vector<int>& allowed_pus() {
  static const std::vector<int> pus = [] {
    std::vector<int> v;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) v.push_back(cpu);
    if (v.empty()) v.push_back(0);
    return v;
  }();
  return pus;
}

int spread_pu(int thread_index) {
  const auto& pus = allowed_pus();
  return pus[static_cast<size_t>(thread_index) % pus.size()];
}

int max_bench_threads() { return std::max<int>(2, static_cast<int>(allowed_pus().size())); }

PinningScope::PinningScope(int os_pu) {
  CPU_ZERO(&saved_);
  restore_ = sched_getaffinity(0, sizeof saved_, &saved_) == 0;
  pin_current_thread(os_pu);
}

PinningScope::~PinningScope() {
  if (restore_) sched_setaffinity(0, sizeof saved_, &saved_);
}

}  // namespace gpc::bench
