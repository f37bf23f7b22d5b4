// The subject of `run cache`'s rig (layer E, BRIEF §2): the embedded notifier state (the
// model's "VM"), the resolver from uhva to the memfd offset behind it, the contract
// checker, and one activated pfn cache per writer over its own page of the guest memory.
// The invalidators call into the notifier state, so the rig destroys them first (rig.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "memory/memfd_region.hpp"
#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_resolver.hpp"
#include "pfncache/notifier_state.hpp"
#include "scenarios/rig.hpp"

namespace gpc::scenarios {

// What the model counted over a run, read once the measured threads have stopped.
struct CacheModelTotals {
  pfncache::GpcStats caches;         // summed over the writers' caches
  uint32_t halt_poll_max = 0;        // the largest adaptive halt-poll window any cache reached
  uint64_t audit_violations = 0;     // the caches' own consistency audits
  pfncache::ContractStats checker;
  pfncache::NotifierStats notifier;
  uint64_t live_after = 0;           // khva mappings still live after every cache was deactivated
  uint64_t bad_unmaps = 0;           // unmaps of mappings the resolver never made
};

class CacheModel : public RigSubject {
 public:
  // Writer w's page is the w-th page of `region`. Throws UnavailableError when a cache
  // fails to activate.
  CacheModel(const pfncache::Policy& policy, MemfdRegion& region, int writers);

  pfncache::NotifierState& notifier() { return notifier_; }
  pfncache::ContractChecker& checker() { return checker_; }
  pfncache::Gpc& cache(size_t writer) { return *caches_.at(writer); }
  const std::vector<uintptr_t>& pages() const { return pages_; }  // uhva of each writer's page

  // After the run: the totals, then every cache deactivated and the resolver asked what is
  // still mapped (the "nothing leaked" invariant for khva mappings).
  CacheModelTotals finish();

 private:
  pfncache::NotifierState notifier_;
  pfncache::MemfdResolver resolver_;
  pfncache::ContractChecker checker_;
  std::vector<std::unique_ptr<pfncache::Gpc>> caches_;
  std::vector<uintptr_t> pages_;
};

}  // namespace gpc::scenarios
