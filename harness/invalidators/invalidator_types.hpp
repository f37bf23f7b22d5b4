// Constructors of the concrete invalidators (one file each); make_invalidator() picks one.
#pragma once

#include <memory>

#include "invalidators/invalidator.hpp"

namespace gpc::detail {

std::unique_ptr<Invalidator> make_mremap(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_mmap_fixed(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_zap(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_punch_hole(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_thp_split(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_thp_collapse(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_migrate(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_compact(GuestRegion& guest, const InvalidatorConfig& cfg);
std::unique_ptr<Invalidator> make_mprotect(GuestRegion& guest, const InvalidatorConfig& cfg);

// Page-swapping helpers shared by mremap and mmap-fixed on memfd memory.
void require_spares(const MemfdRegion& region, size_t pages, std::string_view who);

}  // namespace gpc::detail
