// thp-split: MADV_DONTNEED of one 4 KB page inside a PMD-mapped THP. The kernel splits the
// PMD mapping (notifying the whole 2 MB range, which is what is bracketed) and zaps that
// one page; the other pages stay on the same frames (PFN unchanged, THP -> not THP).
// Before each step the chunk is made PMD-mapped again with MADV_COLLAPSE, outside the
// measured operation but bracketed, since the kernel notifies it too.
#include <sys/mman.h>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"
#include "invalidators/thp_chunk.hpp"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace gpc::detail {
namespace {

class ThpSplitInvalidator final : public Invalidator {
 public:
  ThpSplitInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg)
      : Invalidator(InvalidatorType::thp_split, guest, cfg) {
    split_page_ = split_page_of(plan_, align_down(cfg.cache_hva ? cfg.cache_hva : guest.hva(), kPageSize));
  }

 private:
  HostRange bracket_range() const override { return plan_.chunk; }

  void before_step() override {
    if (pmd_mapped(plan_.observed)) return;
    bracketed(plan_.chunk, [&] {
      // EAGAIN/ENOMEM: no huge page free now; the step then splits nothing and says so
      // through thp_before=false.
      (void)madvise(reinterpret_cast<void*>(plan_.chunk.start), kHugePageSize, MADV_COLLAPSE);
    });
  }

  bool operate() override {
    check_syscall(madvise(reinterpret_cast<void*>(split_page_), kPageSize, MADV_DONTNEED), "madvise(MADV_DONTNEED)");
    return true;
  }

  uintptr_t split_page_ = 0;
};

}  // namespace

std::unique_ptr<Invalidator> make_thp_split(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<ThpSplitInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
