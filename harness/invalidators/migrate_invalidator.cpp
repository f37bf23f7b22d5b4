// migrate: move_pages() of the target range to the next NUMA node each step (PFN changes,
// contents kept). Needs >= 2 nodes; probe() refuses it otherwise.
#include <numaif.h>

#include <vector>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"
#include "memory/numa_placement.hpp"

namespace gpc::detail {
namespace {

class MigrateInvalidator final : public Invalidator {
 public:
  MigrateInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg)
      : Invalidator(InvalidatorType::migrate, guest, cfg) {
    for (uintptr_t p = plan_.op.start; p < plan_.op.end; p += kPageSize) pages_.push_back(reinterpret_cast<void*>(p));
    nodes_.resize(pages_.size());
    status_.resize(pages_.size());
  }

 private:
  void before_step() override {
    const int now = node_of_page(pages_.front());
    const int to = (now < 0 ? 0 : now + 1) % numa_node_count();
    for (auto& n : nodes_) n = to;
  }

  bool operate() override {
    const long rc = move_pages(0, pages_.size(), pages_.data(), nodes_.data(), status_.data(), MPOL_MF_MOVE);
    if (rc < 0) throw SystemError("move_pages", errno);
    return rc == 0;  // > 0: some pages could not be moved this time
  }

  std::vector<void*> pages_;
  std::vector<int> nodes_, status_;
};

}  // namespace

std::unique_ptr<Invalidator> make_migrate(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<MigrateInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
