// What backs a virtual page of this process right now, from /proc/self/pagemap,
// /proc/kpageflags and the PAGEMAP_SCAN ioctl (PMD mapping). Without CAP_SYS_ADMIN the
// kernel reports PFN 0: pfns_readable() says so and callers must report "unverified"
// rather than compare zeros.
#pragma once

#include <cstdint>
#include <optional>

#include "memory/mapping.hpp"

namespace gpc {

struct PageInfo {
  bool present = false;
  bool swapped = false;
  bool exclusive = false;      // mapped only by this process (pagemap bit 56)
  bool file_or_shared = false; // file page or shared anon (bit 61)
  std::optional<uint64_t> pfn; // only when present and PFNs are readable
  // Folio flags from /proc/kpageflags (need the PFN and root); nullopt when unknown.
  std::optional<bool> compound_head, compound_tail, thp;
  // Mapped by a PMD (a huge mapping) per PAGEMAP_SCAN (kernel >= 6.7); nullopt when unknown.
  std::optional<bool> pmd_mapped;

  // "Is this a THP mapping": the PMD mapping when known (it changes on a split, while the
  // folio stays compound until the deferred split runs), else the folio's THP flag.
  std::optional<bool> huge() const { return pmd_mapped ? pmd_mapped : thp; }
};

class Pagemap {
 public:
  // Opens /proc/self/pagemap (SystemError if that fails) and /proc/kpageflags if readable.
  Pagemap();

  // `folio_flags` = false skips /proc/kpageflags (one syscall less) when only the PFN and
  // the PMD mapping matter.
  PageInfo read(uintptr_t va, bool folio_flags = true) const;
  PageInfo read(const void* va, bool folio_flags = true) const {
    return read(reinterpret_cast<uintptr_t>(va), folio_flags);
  }

  // True when PFNs read back as real numbers (a probe of a page of our own).
  bool pfns_readable() const { return pfns_readable_; }
  bool kpageflags_readable() const { return kpageflags_.get() >= 0; }
  bool pmd_mapping_readable() const { return scan_works_; }

 private:
  std::optional<bool> read_pmd_mapped(uintptr_t va) const;

  UniqueFd pagemap_;
  UniqueFd kpageflags_;
  bool pfns_readable_ = false;
  bool scan_works_ = false;
};

}  // namespace gpc
