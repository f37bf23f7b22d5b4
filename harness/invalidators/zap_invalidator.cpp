// zap: MADV_DONTNEED on shared memfd pages. The mapping is dropped, the page stays in the
// file, and the refault (done right after the bracket, as a guest or hva_to_pfn() would)
// maps the same page again: a pure invalidation, PFN and contents unchanged.
#include <sys/mman.h>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"

namespace gpc::detail {
namespace {

class ZapInvalidator final : public Invalidator {
 public:
  ZapInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg) : Invalidator(InvalidatorType::zap, guest, cfg) {}

 private:
  bool operate() override {
    check_syscall(madvise(reinterpret_cast<void*>(plan_.op.start), plan_.op.size(), MADV_DONTNEED),
                  "madvise(MADV_DONTNEED)");
    return true;
  }
  void after_step() override { touch(plan_.op); }
};

}  // namespace

std::unique_ptr<Invalidator> make_zap(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<ZapInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
