// A BackingLookup kept as a table: page i of a region at `base` is backed by memfd offset
// table[i]. Whoever changes the mapping (a test's mremap swap, the self-test) updates the
// entry between invalidate_range_start and invalidate_range_end, where the real page
// tables change too. Lock-free reads: one atomic load per lookup.
#pragma once

#include <atomic>
#include <memory>

#include "common/backing_lookup.hpp"

namespace gpc::pfncache {

class BackingTable : public BackingLookup {
 public:
  // Page i starts backed by offset i * 4096.
  BackingTable(int memfd, uintptr_t base, size_t pages);
  int memfd() const override { return memfd_; }
  std::optional<uint64_t> memfd_offset_of(uintptr_t hva) const override;
  void set(size_t page, uint64_t memfd_offset);
  uint64_t get(size_t page) const;
  uintptr_t base() const { return base_; }
  size_t pages() const { return pages_; }

 private:
  int memfd_;
  uintptr_t base_;
  size_t pages_;
  std::unique_ptr<std::atomic<uint64_t>[]> table_;
};

}  // namespace gpc::pfncache
