// mprotect: drop write permission and restore it in one step. Each change_protection()
// notifies (the kernel brackets each call; one bracket here covers both), secondary MMUs
// drop their mappings and the next access refaults the same page: PFN and contents kept.
// Both calls sit in one step so a guest writing the page never sees it read-only for
// longer than the step.
#include <sys/mman.h>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"

namespace gpc::detail {
namespace {

class MprotectInvalidator final : public Invalidator {
 public:
  MprotectInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg)
      : Invalidator(InvalidatorType::mprotect, guest, cfg) {}

 private:
  bool operate() override {
    void* at = reinterpret_cast<void*>(plan_.op.start);
    check_syscall(mprotect(at, plan_.op.size(), PROT_READ), "mprotect(PROT_READ)");
    check_syscall(mprotect(at, plan_.op.size(), PROT_READ | PROT_WRITE), "mprotect(PROT_READ|PROT_WRITE)");
    return true;
  }
};

}  // namespace

std::unique_ptr<Invalidator> make_mprotect(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<MprotectInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
