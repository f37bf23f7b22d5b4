// A guest memory region: host virtual memory another component can register as a KVM
// memslot (hva(), size()) or hand to the embedded pfn cache. Guest-physical addresses are
// the memslot owner's business, not the region's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gpc {

class BackingLookup;

enum class BackingKind { anonymous, memfd };

std::string_view backing_name(BackingKind kind);
// "anon" / "anonymous" / "memfd"; throws UsageError naming the valid values.
BackingKind parse_backing(std::string_view text);

struct RegionOptions {
  size_t size = 2u << 20;   // bytes, rounded up to whole 4 KB pages
  bool hugepage = false;    // MADV_HUGEPAGE (anon: needs THP enabled=madvise|always)
  int numa_node = -1;       // -1: default policy; otherwise bind to this node (libnuma)
  size_t spare_pages = 0;   // memfd only: extra file pages for page-swapping invalidators
  bool prefault = true;     // touch every page so PFNs exist before the first measurement
};

class GuestRegion {
 public:
  virtual ~GuestRegion() = default;
  virtual BackingKind kind() const = 0;
  // Base host virtual address (2 MB aligned) and length in bytes.
  virtual uintptr_t hva() const = 0;
  virtual size_t size() const = 0;
  virtual const RegionOptions& options() const = 0;
  // The memfd lookup for regions that have one (memfd backings), else nullptr.
  virtual BackingLookup* backing_lookup() { return nullptr; }
  // Whether MADV_HUGEPAGE was applied (the THP mode allowed it and it was asked for).
  virtual bool hugepage_advised() const = 0;

  char* data() const { return reinterpret_cast<char*>(hva()); }
  bool contains(uintptr_t addr, size_t len = 1) const {
    return addr >= hva() && len <= size() && addr - hva() <= size() - len;
  }
};

}  // namespace gpc
