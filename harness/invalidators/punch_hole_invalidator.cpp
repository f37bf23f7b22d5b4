// punch-hole: fallocate(PUNCH_HOLE|KEEP_SIZE) on the file pages behind the target range.
// The kernel unmaps them from every mapping and frees them; the refault after the bracket
// allocates a new zeroed page (contents lost; the PFN may be the freed one reused).
#include <fcntl.h>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"
#include "memory/memfd_region.hpp"

namespace gpc::detail {
namespace {

class PunchHoleInvalidator final : public Invalidator {
 public:
  PunchHoleInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg)
      : Invalidator(InvalidatorType::punch_hole, guest, cfg) {
    if (!memfd_region()) throw UnavailableError("punch-hole needs a file (memfd) backing");
  }

 private:
  bool operate() override {
    MemfdRegion& m = *memfd_region();
    // Pages may have been swapped to scattered offsets: punch each contiguous file run.
    const size_t first = m.page_index(plan_.op.start), n = plan_.op.size() / kPageSize;
    size_t i = 0;
    while (i < n) {
      const uint64_t start = m.page_offset(first + i);
      size_t run = 1;
      while (i + run < n && m.page_offset(first + i + run) == start + run * kPageSize) ++run;
      if (start != MemfdRegion::kUnmapped)
        check_syscall(fallocate(m.memfd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(start),
                                static_cast<off_t>(run * kPageSize)),
                      "fallocate(FALLOC_FL_PUNCH_HOLE)");
      i += run;
    }
    return true;
  }
  void after_step() override { touch(plan_.op); }
};

}  // namespace

std::unique_ptr<Invalidator> make_punch_hole(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<PunchHoleInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
