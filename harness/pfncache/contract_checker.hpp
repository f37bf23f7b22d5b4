// Every access through khva goes through here, so a run can prove what the notifier
// contract and BRIEF §6 require:
//  (a) use-after-start: the cache still reports valid while an invalidation of its page
//      has returned from range_start (the page may already be moved or freed). Expected
//      and counted as unsafe_violations when hook=end (unsafe by design); a violation
//      otherwise.
//  (b) stale use: valid, no invalidation in flight for the page, yet khva maps another
//      memfd offset than the one backing uhva now. Always a violation.
//  (c) NULL khva on a valid cache. Always a violation (and the access is skipped).
// Cost per access, measured nowhere else: two seq_cst loads when no invalidation has
// returned from start (the common case), plus a mutex and a short scan when one has; one
// atomic load of the backing table; a seqcount-consistent read of the cache (7 loads).
// None of it is on check()'s path.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/backing_lookup.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/notifier_state.hpp"

namespace gpc::pfncache {

enum class Access { kOk, kUnsafeByDesign, kUseAfterStart, kStale, kNullKhva, kUnverifiable };
const char* to_string(Access);

struct ContractStats {
  uint64_t accesses = 0;
  uint64_t unsafe_violations = 0;  // (a) under hook=end: reported, labelled, not failing
  uint64_t use_after_start = 0;    // (a) otherwise
  uint64_t stale = 0;              // (b)
  uint64_t null_khva = 0;          // (c)
  uint64_t unverifiable = 0;       // an invalidation raced the stale check; not judged
  uint64_t violations() const { return use_after_start + stale + null_khva; }
};

class ContractChecker {
 public:
  // `lookup` may be null: then the stale check (b) is skipped.
  ContractChecker(NotifierState& vm, const BackingLookup* lookup) : vm_(vm), lookup_(lookup) {}

  // The caller holds gpc.read_lock() and check() passed. `offset` is relative to khva
  // and must keep the 8 bytes inside the page.
  Access write_u64(const Gpc& gpc, size_t offset, uint64_t value);
  Access read_u64(const Gpc& gpc, size_t offset, uint64_t* out);

  ContractStats stats() const;

 private:
  Access classify(const GpcView& v);
  NotifierState& vm_;
  const BackingLookup* lookup_;
  std::atomic<uint64_t> accesses_{0}, unsafe_{0}, after_start_{0}, stale_{0}, null_{0},
      unverifiable_{0};
};

}  // namespace gpc::pfncache
