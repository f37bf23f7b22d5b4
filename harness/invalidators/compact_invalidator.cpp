// compact: writes 1 to /proc/sys/vm/compact_memory, which compacts every zone of the whole
// system (a trigger, not a setting). Which pages move is the kernel's choice: the bracket
// covers the target range as an approximation, and pagemap shows whether the observed page
// moved. Only with InvalidatorConfig::allow_compact (probe() refuses otherwise).
#include <fcntl.h>
#include <unistd.h>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"

namespace gpc::detail {
namespace {

class CompactInvalidator final : public Invalidator {
 public:
  CompactInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg)
      : Invalidator(InvalidatorType::compact, guest, cfg),
        fd_(open("/proc/sys/vm/compact_memory", O_WRONLY | O_CLOEXEC)) {
    if (fd_.get() < 0) throw UnavailableError("compact: cannot open /proc/sys/vm/compact_memory for writing (root?)");
  }

 private:
  bool operate() override {
    check_syscall(pwrite(fd_.get(), "1\n", 2, 0), "write(/proc/sys/vm/compact_memory)");
    return true;
  }

  UniqueFd fd_;
};

}  // namespace

std::unique_ptr<Invalidator> make_compact(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<CompactInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
