// The collided/uncollided split of `run cache` (issue 14 item 3). A wait for a valid cache
// "collided" when it met an invalidation in progress: only those are the waits a waiting
// strategy can change; the others pay for hva_to_pfn and the mapping alone.
//
// The kernel's test for "an invalidation in progress" is mmu_notifier_retry_cache()
// (virt/kvm/pfncache.c, since 58cd407ca4c6 "KVM: Fix multiple races in gfn=>pfn cache
// refresh", Apr 2022): kvm->mn_active_invalidate_count != 0, or mmu_invalidate_seq moved.
// A wait is collided when, either
//   - at its first failed check (kvm_gpc_check() false), the model's active count was > 0
//     (the refresh about to start will find the invalidation there), or
//   - the refresh itself found one: hva_to_pfn_retry() took another turn (its
//     mmu_notifier_retry_cache() test failed) or its wait strategy waited (spun, yielded or
//     slept on an invalidation still pending for the cache).
// The second part catches invalidations that began after the failed check: with
// hook=end (v3) the check fails after range_end, when the count is usually 0 again.
#pragma once

#include <cstdint>

#include "common/histogram.hpp"
#include "pfncache/stats.hpp"

namespace gpc::scenarios {

// The decision above. `before`/`after`: the cache's counters around the wait.
bool wait_collided(bool active_at_failed_check, const pfncache::GpcStats& before, const pfncache::GpcStats& after);

// One writer's waits, split. Merged over writers for the record.
struct CollisionSplit {
  Histogram collided;    // latency, failed check -> next passing check, ns
  Histogram uncollided;
  uint64_t collided_cpu_ns = 0;   // the waiter's CPU (CLOCK_THREAD_CPUTIME_ID) in collided waits
  uint64_t collided_wall_ns = 0;  // the collided waits' summed latency
  uint64_t corunner_units = 0;    // work units the co-runner on the waiter's PU did inside them
  double corunner_expected = 0;   // the units it would have done alone in the same time
  double corunner_alone_rate = 0; // set by the writer: its co-runner's units/s alone; 0: none

  void record(uint64_t latency_ns, uint64_t cpu_ns, bool was_collided, uint64_t corunner_units_in_wait);
  void merge(const CollisionSplit& other);
  double cpu_ns_per_collision() const;  // -1 without collided waits
  // The co-runner's units inside the collided waits over what it does alone in that time
  // (1.0 = unharmed); -1 without a co-runner on the waiter's PU or without collided waits.
  double corunner_progress_during_waits() const;
};

}  // namespace gpc::scenarios
