// thp-collapse: MADV_COLLAPSE of the 2 MB chunk. The kernel copies the small pages into a
// new huge page and maps it by PMD: PFN changes, contents kept, not THP -> THP. Before each
// step a PMD-mapped chunk is split again (one 4 KB zap, bracketed, outside the measured op).
#include <sys/mman.h>

#include <cerrno>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"
#include "invalidators/thp_chunk.hpp"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace gpc::detail {
namespace {

class ThpCollapseInvalidator final : public Invalidator {
 public:
  ThpCollapseInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg)
      : Invalidator(InvalidatorType::thp_collapse, guest, cfg) {
    split_page_ = split_page_of(plan_, align_down(cfg.cache_hva ? cfg.cache_hva : guest.hva(), kPageSize));
  }

 private:
  HostRange bracket_range() const override { return plan_.chunk; }

  void before_step() override {
    if (!pmd_mapped(plan_.observed)) return;
    bracketed(plan_.chunk, [&] {
      check_syscall(madvise(reinterpret_cast<void*>(split_page_), kPageSize, MADV_DONTNEED), "madvise(MADV_DONTNEED)");
    });
  }

  bool operate() override {
    if (madvise(reinterpret_cast<void*>(plan_.chunk.start), kHugePageSize, MADV_COLLAPSE) == 0) return true;
    if (errno == EAGAIN || errno == ENOMEM) return false;  // transient: no huge page to be had now
    // The chunk (always 2 MB aligned) no longer lies in one VMA that can hold a PMD, e.g. an
    // mremap of one of its pages split the VMA for good: the kernel declines; counted as
    // op_failed, not an error.
    if (errno == EINVAL) return false;
    throw SystemError("madvise(MADV_COLLAPSE)", errno);
  }

  uintptr_t split_page_ = 0;
};

}  // namespace

std::unique_ptr<Invalidator> make_thp_collapse(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<ThpCollapseInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
