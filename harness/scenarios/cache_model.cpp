#include "scenarios/cache_model.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace gpc::scenarios {

CacheModel::CacheModel(const pfncache::Policy& policy, MemfdRegion& region, int writers)
    : notifier_(policy), resolver_(region), checker_(notifier_, &region) {
  // Guest memory is the region: only invalidations inside it move seq (kvm_handle_hva_range).
  notifier_.add_memslot(region.hva(), region.hva() + region.size());
  for (int w = 0; w < writers; ++w) {
    pages_.push_back(region.hva() + static_cast<uintptr_t>(w) * pfncache::kPageSize);
    caches_.push_back(std::make_unique<pfncache::Gpc>(notifier_, resolver_));
    if (const auto r = caches_.back()->activate(pages_.back(), pfncache::kPageSize); r != pfncache::RefreshResult::kOk)
      throw UnavailableError(fmt::format("activating writer {}'s cache failed: {}", w, to_string(r)));
  }
}

CacheModelTotals CacheModel::finish() {
  CacheModelTotals t;
  t.checker = checker_.stats();
  t.notifier = notifier_.stats();
  for (auto& c : caches_) {
    t.caches += c->stats();
    t.halt_poll_max = std::max(t.halt_poll_max, c->halt_poll_ns());
    t.audit_violations += c->audit().violations();
    c->deactivate();
  }
  t.live_after = resolver_.live_mappings();
  t.bad_unmaps = resolver_.bad_unmaps();
  return t;
}

}  // namespace gpc::scenarios
