// The machine's transparent hugepage modes, read from sysfs (never written: changing them
// is the administrator's call).
#pragma once

#include <string>

namespace gpc {

struct ThpModes {
  std::string enabled;        // anon THP: always | madvise | never ("" if unreadable)
  std::string shmem_enabled;  // shmem/memfd THP: always | within_size | advise | never | deny | force
  // MADV_HUGEPAGE on anonymous memory yields PMD-mapped THPs.
  bool anon_madvise_works() const { return enabled == "always" || enabled == "madvise"; }
  // MADV_HUGEPAGE on a memfd lets faults allocate huge pages.
  bool shmem_madvise_works() const {
    return shmem_enabled == "always" || shmem_enabled == "within_size" || shmem_enabled == "advise" ||
           shmem_enabled == "force";
  }
};

// Reads /sys/kernel/mm/transparent_hugepage/{enabled,shmem_enabled}; the bracketed word.
ThpModes read_thp_modes();

// The active word of a sysfs mode line such as "always [madvise] never".
std::string active_thp_mode(const std::string& line);

}  // namespace gpc
