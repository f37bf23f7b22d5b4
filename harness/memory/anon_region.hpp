// Anonymous private guest memory, 2 MB aligned; with `hugepage` it is MADV_HUGEPAGE'd before
// the first touch so the kernel backs it with PMD-mapped THPs (needs THP enabled=madvise|always).
#pragma once

#include "memory/mapping.hpp"
#include "memory/region.hpp"

namespace gpc {

class AnonRegion final : public GuestRegion {
 public:
  // Throws UnavailableError if hugepage is asked for and THP is disabled, SystemError on
  // a failed mmap/madvise, UsageError for a size of 0 or a missing NUMA node.
  explicit AnonRegion(const RegionOptions& options);

  BackingKind kind() const override { return BackingKind::anonymous; }
  uintptr_t hva() const override { return map_.addr(); }
  size_t size() const override { return map_.size(); }
  const RegionOptions& options() const override { return options_; }
  bool hugepage_advised() const override { return options_.hugepage; }

 private:
  RegionOptions options_;
  Mapping map_;
};

}  // namespace gpc
