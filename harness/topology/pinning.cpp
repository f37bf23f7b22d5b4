#include "topology/pinning.hpp"

#include <hwloc.h>
#include <sched.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "common/errors.hpp"
#include "topology/topology.hpp"

namespace gpc {
namespace {

struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* b) const { hwloc_bitmap_free(b); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

// Where hwloc last saw this thread run (the kernel's view, not a cached value).
int last_pu_seen(hwloc_topology_t topo) {
  Bitmap where(hwloc_bitmap_alloc());
  if (!where) throw SystemError("hwloc_bitmap_alloc", ENOMEM);
  if (hwloc_get_last_cpu_location(topo, where.get(), HWLOC_CPUBIND_THREAD) != 0)
    throw SystemError("hwloc_get_last_cpu_location", errno);
  return hwloc_bitmap_first(where.get());
}

}  // namespace

int pin_current_thread(int os_pu) {
  const Topology& topo = Topology::system();
  if (!topo.has_pu(os_pu)) {
    std::vector<int> all;
    for (const auto& core : topo.pus_by_core()) all.insert(all.end(), core.begin(), core.end());
    throw UsageError(fmt::format("PU {} does not exist: this machine has PUs {}", os_pu,
                                 fmt::join(all, ",")));
  }
  hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo.raw(), static_cast<unsigned>(os_pu));
  if (hwloc_set_cpubind(topo.raw(), pu->cpuset, HWLOC_CPUBIND_THREAD) != 0)
    throw SystemError(fmt::format("hwloc_set_cpubind(PU {})", os_pu), errno);
  // Linux migrates the calling thread before sched_setaffinity returns; a few yields cover
  // any other kernel that moves it at the next scheduling point.
  int seen = last_pu_seen(topo.raw());
  for (int attempt = 0; seen != os_pu && attempt < 100; ++attempt) {
    sched_yield();
    seen = last_pu_seen(topo.raw());
  }
  if (seen != os_pu)
    throw UnavailableError(fmt::format("bound to PU {} but the thread still runs on PU {}", os_pu, seen));
  return seen;
}

int current_pu() { return sched_getcpu(); }

}  // namespace gpc
