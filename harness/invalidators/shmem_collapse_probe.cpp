#include "invalidators/shmem_collapse_probe.hpp"

#include <sys/mman.h>

#include <cstring>

#include "memory/memfd_region.hpp"
#include "memory/pagemap.hpp"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace gpc {

bool shmem_collapse_works() {
  static const bool works = [] {
    try {
      MemfdRegion probe_region({.size = kHugePageSize});
      std::memset(probe_region.data(), 1, probe_region.size());
      if (madvise(probe_region.data(), probe_region.size(), MADV_COLLAPSE) != 0) return false;
      Pagemap pm;
      return pm.read(probe_region.hva()).pmd_mapped.value_or(false);
    } catch (const std::exception&) {
      return false;
    }
  }();
  return works;
}

}  // namespace gpc
