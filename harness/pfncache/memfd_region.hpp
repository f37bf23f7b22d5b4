// Guest memory for the model's own tests and the stress self-test: a memfd of `pages`
// guest pages plus `spares` spare pages, the guest pages mapped MAP_SHARED at base(). A
// page swap moves a spare page onto a guest page with a real mremap(MREMAP_FIXED),
// bracketed by the listener's invalidate_range_start/end exactly where the kernel's MMU
// notifier fires. (memory/ owns the production backings; this one is deliberately small.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/mmu_notifier_listener.hpp"
#include "pfncache/backing_table.hpp"

namespace gpc::pfncache {

class MemfdRegion {
 public:
  MemfdRegion(size_t pages, size_t spares);
  ~MemfdRegion();
  MemfdRegion(const MemfdRegion&) = delete;
  MemfdRegion& operator=(const MemfdRegion&) = delete;

  uintptr_t base() const { return base_; }
  uintptr_t page_hva(size_t i) const { return base_ + i * 4096; }
  size_t pages() const { return pages_; }
  const BackingTable& backing() const { return table_; }
  int memfd() const { return fd_; }

  // Replaces guest page i with a spare page (contents copied first, so the guest sees
  // the same data in a different frame). `listener` may be null (an unbracketed change,
  // used to prove the stale-use detector works). `between` runs after start returned and
  // before the mremap, e.g. to hold the invalidation open. Concurrent swaps (also of the
  // same page) are allowed: their notifier brackets overlap as real ones do; the move
  // itself and its table update are serialized.
  template <typename Between>
  void swap_page(size_t i, MmuNotifierListener* listener, Between&& between) {
    const uintptr_t hva = page_hva(i);
    if (listener) listener->invalidate_range_start(hva, hva + 4096);
    try {
      between();
      move_spare_onto(i);
    } catch (...) {
      // Never leave the notifier with an invalidation that has no end.
      if (listener) listener->invalidate_range_end(hva, hva + 4096);
      throw;
    }
    if (listener) listener->invalidate_range_end(hva, hva + 4096);
  }
  void swap_page(size_t i, MmuNotifierListener* listener) {
    swap_page(i, listener, [] {});
  }

 private:
  void move_spare_onto(size_t i);
  int fd_ = -1;
  size_t pages_;
  uintptr_t base_ = 0;
  BackingTable table_;
  std::mutex swap_mu_;
  std::vector<uint64_t> spare_offsets_;
};

}  // namespace gpc::pfncache
