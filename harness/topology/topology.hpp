// The machine's processor topology as hwloc discovers it (or a synthetic one for tests):
// packages, cores, PUs, NUMA nodes and caches, with PUs named by their OS numbers (the
// numbers `taskset`, sched_getcpu() and /proc use).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct hwloc_topology;

namespace gpc {

struct CacheLevel {
  int level = 0;               // 1, 2, 3...
  std::string type;            // "Data", "Instruction" or "Unified" (Google Benchmark's words)
  uint64_t size_bytes = 0;     // one instance
  int instances = 0;           // how many of this cache the machine has
  int pus_sharing = 0;         // PUs sharing one instance
};

// Owns one loaded hwloc topology; move-only. Read-only after construction, so one instance
// may be shared by threads (hwloc's read-only queries are thread-safe).
class Topology {
 public:
  // The running machine, discovered once per process.
  static const Topology& system();
  // A synthetic machine in hwloc's syntax, e.g. "package:2 core:4 pu:2" or
  // "pack:2 numa:1 core:2 pu:2". Throws UsageError naming a malformed description.
  static Topology synthetic(const std::string& description);

  Topology(Topology&& other) noexcept;
  Topology& operator=(Topology&& other) noexcept;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  ~Topology();

  int packages() const;
  int cores() const;
  int pus() const;
  int numa_nodes() const;  // at least 1: hwloc models a non-NUMA machine as one node
  std::vector<CacheLevel> caches() const;

  // OS PU numbers grouped by physical core (cores in hwloc's logical order).
  const std::vector<std::vector<int>>& pus_by_core() const { return pus_by_core_; }
  // OS PU numbers of each NUMA node, indexed by the node's logical index.
  const std::vector<std::vector<int>>& pus_by_numa_node() const { return pus_by_numa_; }
  // OS numbers of the NUMA nodes (what numactl and /sys call them), by logical index.
  const std::vector<int>& numa_node_os_numbers() const { return numa_os_; }
  bool has_pu(int os_pu) const;

  bool is_synthetic() const { return synthetic_; }
  // e.g. "1 package, 2 cores, 2 PUs (1 per core), 1 NUMA node".
  std::string summary() const;
  hwloc_topology* raw() const { return topo_; }

 private:
  Topology(hwloc_topology* topo, bool synthetic);
  void index();

  hwloc_topology* topo_ = nullptr;
  bool synthetic_ = false;
  std::vector<std::vector<int>> pus_by_core_;
  std::vector<std::vector<int>> pus_by_numa_;
  std::vector<int> numa_os_;
};

}  // namespace gpc
