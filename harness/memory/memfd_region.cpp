#include "memory/memfd_region.hpp"

#include <fcntl.h>
#include <sys/mman.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "common/errors.hpp"
#include "memory/numa_placement.hpp"
#include "memory/thp_modes.hpp"

namespace gpc {

MemfdRegion::MemfdRegion(const RegionOptions& options) : options_(options) {
  if (options.size == 0) throw UsageError("guest region size must be > 0");
  options_.size = align_up(options.size, kPageSize);
  const size_t guest_pages = options_.size / kPageSize;
  const size_t file_pages = guest_pages + options_.spare_pages;

  fd_ = UniqueFd(static_cast<int>(check_syscall(memfd_create("gpcbench-guest", MFD_CLOEXEC), "memfd_create")));
  check_syscall(ftruncate(fd_.get(), static_cast<off_t>(file_pages * kPageSize)), "ftruncate(memfd)");

  map_ = reserve_aligned(options_.size, kHugePageSize);
  if (mmap(map_.data(), map_.size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd_.get(), 0) == MAP_FAILED)
    throw SystemError("mmap(memfd guest region)", errno);
  // The memory policy of a shared mapping applies to the shmem pages it faults in.
  if (options_.numa_node >= 0) bind_to_node(map_.data(), map_.size(), options_.numa_node);
  if (options_.hugepage && read_thp_modes().shmem_madvise_works()) {
    check_syscall(madvise(map_.data(), map_.size(), MADV_HUGEPAGE), "madvise(MADV_HUGEPAGE, memfd)");
    hugepage_advised_ = true;
  }
  if (options_.prefault)
    for (size_t off = 0; off < map_.size(); off += kPageSize) map_.data()[off] = 0;
  // Allocate the spare pages now, so a swap measures the swap and not shmem allocation.
  if (options_.spare_pages)
    check_syscall(fallocate(fd_.get(), 0, static_cast<off_t>(options_.size),
                            static_cast<off_t>(options_.spare_pages * kPageSize)),
                  "fallocate(memfd spare pages)");

  table_ = std::make_unique<std::atomic<uint64_t>[]>(guest_pages);
  for (size_t i = 0; i < guest_pages; ++i) table_[i].store(i * kPageSize, std::memory_order_relaxed);
  spare_used_.assign(file_pages, false);
  for (size_t i = 0; i < guest_pages; ++i) spare_used_[i] = true;
  lowest_free_ = guest_pages;
}

size_t MemfdRegion::page_index(uintptr_t hva) const {
  if (!contains(hva))
    throw UsageError(fmt::format("address {:#x} is outside the memfd guest region [{:#x}, {:#x})", hva,
                                 this->hva(), this->hva() + size()));
  return (hva - this->hva()) / kPageSize;
}

std::optional<uint64_t> MemfdRegion::memfd_offset_of(uintptr_t hva) const {
  if (!contains(hva)) return std::nullopt;
  const uint64_t off = page_offset((hva - this->hva()) / kPageSize);
  if (off == kUnmapped) return std::nullopt;
  return off;
}

std::optional<uint64_t> MemfdRegion::take_spare(size_t pages) {
  if (pages == 0) return std::nullopt;
  std::lock_guard lock(spare_mutex_);
  size_t run = 0;
  for (size_t i = lowest_free_; i < spare_used_.size(); ++i) {
    run = spare_used_[i] ? 0 : run + 1;
    if (run == pages) {
      const size_t first = i + 1 - pages;
      for (size_t j = first; j <= i; ++j) spare_used_[j] = true;
      if (first == lowest_free_) lowest_free_ = i + 1;
      return uint64_t(first) * kPageSize;
    }
  }
  return std::nullopt;
}

void MemfdRegion::give_back(uint64_t offset, size_t pages) {
  std::lock_guard lock(spare_mutex_);
  const size_t first = offset / kPageSize;
  for (size_t j = first; j < first + pages && j < spare_used_.size(); ++j) spare_used_[j] = false;
  lowest_free_ = std::min(lowest_free_, first);
}

size_t MemfdRegion::spare_free_pages() const {
  std::lock_guard lock(spare_mutex_);
  size_t n = 0;
  for (bool used : spare_used_) n += used ? 0 : 1;
  return n;
}

}  // namespace gpc
