// Counters of one cache (and, summed, of one strategy). Written with relaxed atomics by
// the refreshing thread(s); read as a plain snapshot. The field list is declared once so
// the plain and the atomic form cannot drift apart.
#pragma once

#include <atomic>
#include <cstdint>

namespace gpc::pfncache {

#define GPC_PFNCACHE_STATS(X)                                                         \
  X(refreshes)        /* refresh() calls */                                           \
  X(refresh_ok)       /* refreshes that left the cache valid */                       \
  X(refresh_failed)   /* inactive, fault, timed out, stopped or deadlocked */          \
  X(timeouts)         /* refreshes that hit Policy::refresh_bound */                  \
  X(retries)          /* extra turns of the hva_to_pfn_retry loop */                  \
  X(hva_to_pfn)       /* resolver calls */                                            \
  X(maps)             /* new khva mappings */                                         \
  X(unmaps)           /* khva mappings released */                                    \
  X(deadlocks)        /* self-deadlocks detected on gpc->lock */                      \
  X(spin_ns)          /* time spent spinning with pause */                            \
  X(yields)           /* sched_yield() calls of a wait's yield phase */               \
  X(yield_ns)         /* time spent in the yield phase */                             \
  X(sleeps)           /* futex sleeps */                                              \
  X(sleep_ns)         /* time spent asleep */                                         \
  X(wakeups)          /* futex sleeps ended by a wake of the word */                  \
  X(invalid_wakeups)  /* ... after which the invalidation still pended (halt_poll_invalid) */ \
  X(slice_timeouts)   /* sleeps that ran out their block_slice (re-check, not a wakeup) */ \
  X(polls_attempted)  /* haltpoll waits that polled */                                \
  X(polls_successful) /* ... and saw the invalidation end while polling */            \
  X(polls_invalid)    /* ... and had to block (or gave up) after the poll */         \
  X(polls_preempted)  /* polls ended because the thread had been descheduled */      \
  X(poll_ns)          /* time spent in the poll phase */                              \
  X(wait_ns)          /* total time in waits (all phases) */

struct GpcStats {
#define GPC_STATS_FIELD(name) uint64_t name = 0;
  GPC_PFNCACHE_STATS(GPC_STATS_FIELD)
#undef GPC_STATS_FIELD

  GpcStats& operator+=(const GpcStats& o) {
#define GPC_STATS_ADD(name) name += o.name;
    GPC_PFNCACHE_STATS(GPC_STATS_ADD)
#undef GPC_STATS_ADD
    return *this;
  }
};

class AtomicGpcStats {
 public:
#define GPC_STATS_ATOMIC(name) std::atomic<uint64_t> name{0};
  GPC_PFNCACHE_STATS(GPC_STATS_ATOMIC)
#undef GPC_STATS_ATOMIC

  GpcStats snapshot() const {
    GpcStats s;
#define GPC_STATS_LOAD(name) s.name = name.load(std::memory_order_relaxed);
    GPC_PFNCACHE_STATS(GPC_STATS_LOAD)
#undef GPC_STATS_LOAD
    return s;
  }
  static void add(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace gpc::pfncache
