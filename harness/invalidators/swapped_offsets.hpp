// The memfd-offset bookkeeping shared by the page-swapping invalidators (mremap,
// mmap-fixed): the offset table follows the swap inside the notifier bracket, and the
// swapped-out pages return to the spare pool only after the step, when nothing resolves
// them any more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "memory/memfd_region.hpp"

namespace gpc::detail {

class SwappedOffsets {
 public:
  // Pages [first_page, first_page + pages) are now backed by consecutive pages from
  // `new_offset`; remembers the offsets they had.
  void record_swap(MemfdRegion& m, size_t first_page, size_t pages, uint64_t new_offset) {
    old_.clear();
    for (size_t i = 0; i < pages; ++i) {
      old_.push_back(m.page_offset(first_page + i));
      m.set_page_offset(first_page + i, new_offset + i * kPageSize);
    }
  }

  // Returns the remembered offsets to `m`'s spare pool (no-op without a memfd region).
  void give_back(MemfdRegion* m) {
    if (m)
      for (uint64_t off : old_)
        if (off != MemfdRegion::kUnmapped) m->give_back(off, 1);
    old_.clear();
  }

 private:
  std::vector<uint64_t> old_;
};

}  // namespace gpc::detail
