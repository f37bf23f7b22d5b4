#include "memory/anon_region.hpp"

#include <sys/mman.h>

#include <cstring>

#include "common/errors.hpp"
#include "memory/numa_placement.hpp"
#include "memory/thp_modes.hpp"

namespace gpc {

AnonRegion::AnonRegion(const RegionOptions& options) : options_(options) {
  if (options.size == 0) throw UsageError("guest region size must be > 0");
  options_.size = align_up(options.size, kPageSize);
  if (options.hugepage && !read_thp_modes().anon_madvise_works())
    throw UnavailableError("anonymous THP is disabled (transparent_hugepage/enabled=" +
                           read_thp_modes().enabled + "); an administrator can set it to madvise");
  map_ = reserve_aligned(options_.size, kHugePageSize);
  if (mmap(map_.data(), map_.size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
      MAP_FAILED)
    throw SystemError("mmap(anonymous guest region)", errno);
  if (options_.numa_node >= 0) bind_to_node(map_.data(), map_.size(), options_.numa_node);
  if (options_.hugepage) check_syscall(madvise(map_.data(), map_.size(), MADV_HUGEPAGE), "madvise(MADV_HUGEPAGE)");
  if (options_.prefault)
    for (size_t off = 0; off < map_.size(); off += kPageSize) map_.data()[off] = 0;
}

}  // namespace gpc
