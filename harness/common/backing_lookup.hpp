// Which memfd offset backs a host virtual address right now: the userspace stand-in for
// the page-table walk of hva_to_pfn(). Guest memory regions (memory/) implement it; the
// embedded pfn cache's resolver (pfncache/) maps `khva` as a second view of that offset.
#pragma once

#include <cstdint>
#include <optional>

namespace gpc {

class BackingLookup {
 public:
  virtual ~BackingLookup() = default;
  // The memfd that holds the guest memory.
  virtual int memfd() const = 0;
  // Offset in memfd() of the page that backs `hva` now, or nullopt if `hva` is not
  // backed by this region (outside it, or currently unmapped).
  virtual std::optional<uint64_t> memfd_offset_of(uintptr_t hva) const = 0;
};

}  // namespace gpc
