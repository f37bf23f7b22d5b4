#include "topology/topology.hpp"

#include <hwloc.h>

#include <fmt/format.h>

#include <cerrno>
#include <map>
#include <tuple>
#include <utility>

#include "common/errors.hpp"

namespace gpc {
namespace {

std::vector<int> os_numbers_of(hwloc_const_bitmap_t set) {
  std::vector<int> out;
  unsigned i = 0;
  hwloc_bitmap_foreach_begin(i, set) { out.push_back(static_cast<int>(i)); }
  hwloc_bitmap_foreach_end();
  return out;
}

const char* cache_type_name(hwloc_obj_cache_type_t t) {
  switch (t) {
    case HWLOC_OBJ_CACHE_DATA: return "Data";
    case HWLOC_OBJ_CACHE_INSTRUCTION: return "Instruction";
    default: return "Unified";
  }
}

std::string plural(int n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

Topology::Topology(hwloc_topology* topo, bool synthetic) : topo_(topo), synthetic_(synthetic) {
  index();
}

Topology::Topology(Topology&& other) noexcept
    : topo_(std::exchange(other.topo_, nullptr)),
      synthetic_(other.synthetic_),
      pus_by_core_(std::move(other.pus_by_core_)),
      pus_by_numa_(std::move(other.pus_by_numa_)),
      numa_os_(std::move(other.numa_os_)) {}

Topology& Topology::operator=(Topology&& other) noexcept {
  if (this != &other) {
    if (topo_) hwloc_topology_destroy(topo_);
    topo_ = std::exchange(other.topo_, nullptr);
    synthetic_ = other.synthetic_;
    pus_by_core_ = std::move(other.pus_by_core_);
    pus_by_numa_ = std::move(other.pus_by_numa_);
    numa_os_ = std::move(other.numa_os_);
  }
  return *this;
}

Topology::~Topology() {
  if (topo_) hwloc_topology_destroy(topo_);
}

const Topology& Topology::system() {
  // Discovery reads /sys once; a magic static makes the first call thread-safe.
  static const Topology instance = [] {
    hwloc_topology_t t = nullptr;
    if (hwloc_topology_init(&t) != 0) throw SystemError("hwloc_topology_init", errno);
    if (hwloc_topology_load(t) != 0) {
      const int err = errno;
      hwloc_topology_destroy(t);
      throw SystemError("hwloc_topology_load", err);
    }
    return Topology(t, false);
  }();
  return instance;
}

Topology Topology::synthetic(const std::string& description) {
  hwloc_topology_t t = nullptr;
  if (hwloc_topology_init(&t) != 0) throw SystemError("hwloc_topology_init", errno);
  if (hwloc_topology_set_synthetic(t, description.c_str()) != 0) {
    hwloc_topology_destroy(t);
    throw UsageError("bad synthetic topology '" + description +
                     "': use hwloc's syntax, e.g. \"package:2 core:4 pu:2\"");
  }
  if (hwloc_topology_load(t) != 0) {
    const int err = errno;
    hwloc_topology_destroy(t);
    throw SystemError("hwloc_topology_load (synthetic)", err);
  }
  return Topology(t, true);
}

void Topology::index() {
  const int ncores = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_CORE);
  if (ncores > 0) {
    for (int i = 0; i < ncores; ++i)
      pus_by_core_.push_back(os_numbers_of(hwloc_get_obj_by_type(topo_, HWLOC_OBJ_CORE, i)->cpuset));
  } else {
    // Some platforms report no cores; then every PU counts as its own core.
    const int npus = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PU);
    for (int i = 0; i < npus; ++i)
      pus_by_core_.push_back({static_cast<int>(hwloc_get_obj_by_type(topo_, HWLOC_OBJ_PU, i)->os_index)});
  }
  const int nnuma = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < nnuma; ++i) {
    hwloc_obj_t node = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_NUMANODE, i);
    pus_by_numa_.push_back(os_numbers_of(node->cpuset));
    numa_os_.push_back(static_cast<int>(node->os_index));
  }
  if (pus_by_numa_.empty()) {  // hwloc 2 always has one; be safe if it does not
    std::vector<int> all;
    for (const auto& core : pus_by_core_) all.insert(all.end(), core.begin(), core.end());
    pus_by_numa_.push_back(all);
    numa_os_.push_back(0);
  }
}

int Topology::packages() const {
  // A synthetic "numa:2 core:2" has no package level; the machine is then one package.
  const int n = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PACKAGE);
  return n > 0 ? n : 1;
}
int Topology::cores() const { return static_cast<int>(pus_by_core_.size()); }
int Topology::pus() const { return hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PU); }
int Topology::numa_nodes() const { return static_cast<int>(pus_by_numa_.size()); }

bool Topology::has_pu(int os_pu) const {
  return os_pu >= 0 && hwloc_get_pu_obj_by_os_index(topo_, static_cast<unsigned>(os_pu)) != nullptr;
}

std::vector<CacheLevel> Topology::caches() const {
  // Group cache objects by (level, type, size): one row per kind, as lscpu prints them.
  std::map<std::tuple<int, std::string, uint64_t>, CacheLevel> kinds;
  const int depth = hwloc_topology_get_depth(topo_);
  for (int d = 0; d < depth; ++d) {
    for (hwloc_obj_t o = hwloc_get_next_obj_by_depth(topo_, d, nullptr); o;
         o = hwloc_get_next_obj_by_depth(topo_, d, o)) {
      if (!hwloc_obj_type_is_cache(o->type)) continue;
      const int level = static_cast<int>(o->attr->cache.depth);
      const std::string type = cache_type_name(o->attr->cache.type);
      auto& k = kinds[{level, type, o->attr->cache.size}];
      k.level = level;
      k.type = type;
      k.size_bytes = o->attr->cache.size;
      k.instances += 1;
      k.pus_sharing = hwloc_bitmap_weight(o->cpuset);
    }
  }
  std::vector<CacheLevel> out;
  for (auto& [key, k] : kinds) out.push_back(k);
  return out;
}

std::string Topology::summary() const {
  const int p = pus(), c = cores();
  return fmt::format("{}, {}, {} ({} per core), {}", plural(packages(), "package", "packages"),
                     plural(c, "core", "cores"), plural(p, "PU", "PUs"), c ? p / c : 0,
                     plural(numa_nodes(), "NUMA node", "NUMA nodes"));
}

}  // namespace gpc
