// Shared memfd (shmem) guest memory that knows which file offset backs each host page.
// Layer E's pfn cache maps `khva` as a second view of that offset (BackingLookup); page-
// swapping invalidators take a spare file page, map it over a guest page and record the
// new offset here, inside their notifier bracket.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/backing_lookup.hpp"
#include "memory/mapping.hpp"
#include "memory/region.hpp"

namespace gpc {

class MemfdRegion final : public GuestRegion, public BackingLookup {
 public:
  static constexpr uint64_t kUnmapped = ~uint64_t(0);

  // The file holds size + spare_pages pages; guest page i starts at offset i*4096.
  explicit MemfdRegion(const RegionOptions& options);

  BackingKind kind() const override { return BackingKind::memfd; }
  uintptr_t hva() const override { return map_.addr(); }
  size_t size() const override { return map_.size(); }
  const RegionOptions& options() const override { return options_; }
  BackingLookup* backing_lookup() override { return this; }
  bool hugepage_advised() const override { return hugepage_advised_; }

  // BackingLookup: page-aligned file offset backing `hva` (add hva % 4096 for the byte).
  int memfd() const override { return fd_.get(); }
  std::optional<uint64_t> memfd_offset_of(uintptr_t hva) const override;

  size_t page_count() const { return map_.size() / kPageSize; }
  // Index of the guest page holding `hva`; throws UsageError when outside the region.
  size_t page_index(uintptr_t hva) const;
  uint64_t page_offset(size_t page) const { return table_[page].load(std::memory_order_acquire); }
  // Records that `page` is now backed by file offset `offset` (kUnmapped: not backed).
  void set_page_offset(size_t page, uint64_t offset) { table_[page].store(offset, std::memory_order_release); }

  // Spare file pages: `pages` contiguous pages not backing any guest page, or nullopt if
  // the pool has no such run. Give them back once no mapping uses them any more.
  std::optional<uint64_t> take_spare(size_t pages);
  void give_back(uint64_t offset, size_t pages);
  size_t spare_free_pages() const;

 private:
  RegionOptions options_;
  UniqueFd fd_;
  Mapping map_;
  bool hugepage_advised_ = false;
  std::unique_ptr<std::atomic<uint64_t>[]> table_;
  mutable std::mutex spare_mutex_;
  std::vector<bool> spare_used_;  // one flag per file page (guest pages start in use)
  size_t lowest_free_ = 0;        // no free page below this index: scans start here
};

}  // namespace gpc
