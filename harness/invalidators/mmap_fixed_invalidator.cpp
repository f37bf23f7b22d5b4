// mmap-fixed: a fresh page is mapped over the target with MAP_FIXED (PFN changes) and the
// old contents are carried over. memfd: copied into a spare file page with pwrite before
// the mapping, and the offset table follows. anon: saved, then written back after the
// mmap, inside the bracket (the first-touch faults are part of the operation).
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "common/errors.hpp"
#include "invalidators/invalidator_types.hpp"
#include "invalidators/swapped_offsets.hpp"
#include "memory/memfd_region.hpp"

namespace gpc::detail {
namespace {

class MmapFixedInvalidator final : public Invalidator {
 public:
  MmapFixedInvalidator(GuestRegion& guest, const InvalidatorConfig& cfg)
      : Invalidator(InvalidatorType::mmap_fixed, guest, cfg) {
    if (auto* m = memfd_region()) require_spares(*m, pages(), "mmap-fixed");
    saved_.resize(plan_.op.size());
  }

 private:
  size_t pages() const { return plan_.op.size() / kPageSize; }

  void before_step() override {
    const auto* src = reinterpret_cast<const char*>(plan_.op.start);
    if (auto* m = memfd_region()) {
      const auto spare = m->take_spare(pages());
      if (!spare) throw UnavailableError("mmap-fixed: the memfd spare pool is exhausted (another swapper on this region?)");
      new_offset_ = *spare;
      if (pwrite(m->memfd(), src, plan_.op.size(), static_cast<off_t>(new_offset_)) !=
          static_cast<ssize_t>(plan_.op.size())) {
        m->give_back(new_offset_, pages());
        throw SystemError("pwrite(memfd spare page)", errno);
      }
    } else {
      std::memcpy(saved_.data(), src, saved_.size());
    }
  }

  bool operate() override {
    void* at = reinterpret_cast<void*>(plan_.op.start);
    const size_t len = plan_.op.size();
    if (auto* m = memfd_region()) {
      if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m->memfd(), static_cast<off_t>(new_offset_)) ==
          MAP_FAILED) {
        const int err = errno;
        m->give_back(new_offset_, pages());
        throw SystemError("mmap(MAP_FIXED, memfd)", err);
      }
      const size_t first = m->page_index(plan_.op.start);
      swapped_.record_swap(*m, first, pages(), new_offset_);
    } else {
      if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
        throw SystemError("mmap(MAP_FIXED, anon)", errno);
      std::memcpy(at, saved_.data(), len);
    }
    return true;
  }

  void after_step() override {
    swapped_.give_back(memfd_region());
  }

  std::vector<char> saved_;
  uint64_t new_offset_ = 0;
  SwappedOffsets swapped_;
};

}  // namespace

std::unique_ptr<Invalidator> make_mmap_fixed(GuestRegion& guest, const InvalidatorConfig& cfg) {
  return std::make_unique<MmapFixedInvalidator>(guest, cfg);
}

}  // namespace gpc::detail
