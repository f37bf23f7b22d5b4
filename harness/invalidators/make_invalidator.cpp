#include <string>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"
#include "memory/memfd_region.hpp"

namespace gpc {

std::unique_ptr<Invalidator> make_invalidator(InvalidatorType type, GuestRegion& guest, const InvalidatorConfig& cfg) {
  const ProbeResult p = probe(type, cfg.target, {guest.kind(), guest.hugepage_advised(), cfg.allow_compact, cfg.accept_content_loss});
  if (!p.runs_here) throw UnavailableError(p.reason);
  switch (type) {
    case InvalidatorType::mremap: return detail::make_mremap(guest, cfg);
    case InvalidatorType::mmap_fixed: return detail::make_mmap_fixed(guest, cfg);
    case InvalidatorType::zap: return detail::make_zap(guest, cfg);
    case InvalidatorType::punch_hole: return detail::make_punch_hole(guest, cfg);
    case InvalidatorType::thp_split: return detail::make_thp_split(guest, cfg);
    case InvalidatorType::thp_collapse: return detail::make_thp_collapse(guest, cfg);
    case InvalidatorType::migrate: return detail::make_migrate(guest, cfg);
    case InvalidatorType::compact: return detail::make_compact(guest, cfg);
    case InvalidatorType::mprotect: return detail::make_mprotect(guest, cfg);
  }
  throw UsageError("unknown invalidator type");
}

void detail::require_spares(const MemfdRegion& region, size_t pages, std::string_view who) {
  if (region.spare_free_pages() < pages)
    throw UsageError(std::string(who) + " on a memfd region swaps in spare file pages: create the region with "
                     "spare_pages >= " + std::to_string(pages) + " (it has " +
                     std::to_string(region.spare_free_pages()) + " free)");
}

}  // namespace gpc
