// Placement planner: which PU each benchmark thread runs on. Results are only comparable
// when placement is deliberate, so the plan is computed once, printed, and recorded.
#pragma once

#include <string>
#include <vector>

#include "topology/topology.hpp"

namespace gpc {

struct PlacementRequest {
  int vcpus = 1;               // vCPU (waiter/reader) threads
  int invalidators = 0;        // invalidator threads
  bool co_runners = false;     // one co-runner per vCPU, deliberately on that vCPU's PU
  bool allow_smt = false;      // pack threads onto SMT siblings instead of spreading over cores
  bool overcommit = false;     // allow more threads than PUs (wraps around)
  int numa_node = -1;          // OS number of the node to use; -1: the planner picks one
  bool span_numa_nodes = false;  // use every node's PUs (only when asked: crosses memory)
};

struct Placement {
  std::vector<int> vcpu_pus;         // OS PU numbers, one per vCPU
  std::vector<int> invalidator_pus;  // one per invalidator
  std::vector<int> co_runner_pus;    // one per vCPU when co-runners were asked for
  bool uses_smt = false;             // two threads share a physical core
  bool overcommitted = false;        // two threads share a PU (beyond co-runners)
  std::vector<int> numa_nodes;       // OS numbers of the nodes the plan uses
  // One line, e.g. "vCPU0->PU0 vCPU1->PU1 invalidator0->PU2 (NUMA node 0)".
  std::string describe() const;
};

// Rules: distinct physical cores first; SMT siblings only with allow_smt or when cores run
// out; one NUMA node unless span_numa_nodes; a co-runner shares its vCPU's PU and consumes
// none; more threads than PUs only with overcommit. Throws UsageError naming the counts.
Placement plan_placement(const Topology& topo, const PlacementRequest& request);

}  // namespace gpc
