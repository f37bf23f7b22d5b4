// mremap: a copy of the target range is staged elsewhere and moved over it with
// mremap(MREMAP_MAYMOVE|MREMAP_FIXED). The target's pages are replaced (PFN changes),
// contents are kept. On memfd memory the copy lives in spare file pages and the offset
// table follows the swap. The kernel also notifies the staging range as it moves away;
// the bracket covers the guest range only.
#include <sys/mman.h>

#include <cstring>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"
#include "invalidators/swapped_offsets.hpp"
#include "memory/memfd_region.hpp"

namespace gpc::detail {
namespace {

class MremapInvalidator final : public Invalidator {
 public:
  MremapInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg) : Invalidator(InvalidatorType::mremap, guest, cfg) {
    if (auto* m = memfd_region()) require_spares(*m, pages(), "mremap");
  }

 private:
  size_t pages() const { return plan_.op.size() / kPageSize; }

  void before_step() override {
    const size_t len = plan_.op.size();
    void* at = MAP_FAILED;
    if (auto* m = memfd_region()) {
      const auto spare = m->take_spare(pages());
      if (!spare) throw UnavailableError("mremap: the memfd spare pool is exhausted (another swapper on this region?)");
      new_offset_ = *spare;
      at = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->memfd(), static_cast<off_t>(new_offset_));
      if (at == MAP_FAILED) {
        m->give_back(new_offset_, pages());
        throw SystemError("mmap(mremap staging, memfd)", errno);
      }
    } else {
      at = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (at == MAP_FAILED) throw SystemError("mmap(mremap staging, anon)", errno);
    }
    staging_ = Mapping(at, len);
  }

  bool operate() override {
    // The copy is part of the operation, inside the bracket: a write that reached the page
    // before range_start is carried over, so content checkers see only real losses.
    std::memcpy(staging_.data(), reinterpret_cast<const void*>(plan_.op.start), staging_.size());
    void* moved = mremap(staging_.data(), staging_.size(), staging_.size(), MREMAP_MAYMOVE | MREMAP_FIXED,
                         reinterpret_cast<void*>(plan_.op.start));
    if (moved == MAP_FAILED) {
      const int err = errno;
      if (auto* m = memfd_region()) m->give_back(new_offset_, pages());  // staging is unmapped by its owner
      staging_.reset();
      throw SystemError("mremap(MREMAP_FIXED onto the target)", err);
    }
    staging_.release();  // its pages now back the target
    if (auto* m = memfd_region()) {
      const size_t first = m->page_index(plan_.op.start);
      swapped_.record_swap(*m, first, pages(), new_offset_);
    }
    return true;
  }

  void after_step() override {
    swapped_.give_back(memfd_region());
  }

  Mapping staging_;
  uint64_t new_offset_ = 0;
  SwappedOffsets swapped_;
};

}  // namespace

std::unique_ptr<Invalidator> make_mremap(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<MremapInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
