#include "topology/placement.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "common/errors.hpp"

namespace gpc {
namespace {

std::string count_of(int n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// Index of the NUMA node (logical) the plan uses: the requested one, or the node with the
// most cores (the first one on a tie) so small plans stay on one memory controller.
int choose_node(const Topology& topo, const PlacementRequest& req) {
  const auto& os = topo.numa_node_os_numbers();
  if (req.numa_node >= 0) {
    auto it = std::find(os.begin(), os.end(), req.numa_node);
    if (it == os.end())
      throw UsageError(fmt::format("NUMA node {} does not exist: this machine has node(s) {}",
                                   req.numa_node, fmt::join(os, ",")));
    return static_cast<int>(it - os.begin());
  }
  int best = 0;
  size_t best_pus = 0;
  for (size_t i = 0; i < topo.pus_by_numa_node().size(); ++i) {
    if (topo.pus_by_numa_node()[i].size() > best_pus) {
      best_pus = topo.pus_by_numa_node()[i].size();
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace

Placement plan_placement(const Topology& topo, const PlacementRequest& req) {
  if (req.vcpus < 0 || req.invalidators < 0)
    throw UsageError(fmt::format("thread counts must be >= 0 (got {} vCPUs, {} invalidators)",
                                 req.vcpus, req.invalidators));
  if (req.span_numa_nodes && req.numa_node >= 0)
    throw UsageError("asked for NUMA node " + std::to_string(req.numa_node) +
                     " and for spanning all nodes: choose one");

  Placement plan;
  std::set<int> in_scope;
  std::string scope_name = "this machine";
  if (req.span_numa_nodes || topo.numa_nodes() == 1) {
    for (const auto& core : topo.pus_by_core()) in_scope.insert(core.begin(), core.end());
    plan.numa_nodes = topo.numa_node_os_numbers();
  } else {
    const int node = choose_node(topo, req);
    const auto& pus = topo.pus_by_numa_node()[node];
    in_scope.insert(pus.begin(), pus.end());
    plan.numa_nodes = {topo.numa_node_os_numbers()[node]};
    scope_name = fmt::format("NUMA node {} of this machine", plan.numa_nodes[0]);
  }
  if (req.numa_node >= 0 && topo.numa_nodes() == 1) choose_node(topo, req);  // validates it

  // Cores restricted to the PUs in scope.
  std::vector<std::vector<int>> cores;
  for (const auto& core : topo.pus_by_core()) {
    std::vector<int> pus;
    for (int pu : core)
      if (in_scope.count(pu)) pus.push_back(pu);
    if (!pus.empty()) cores.push_back(pus);
  }

  // The order PUs are handed out: spread = one PU per core, then second siblings, ...;
  // pack (allow_smt) = every sibling of a core before the next core.
  std::vector<int> order;
  std::vector<int> core_of;  // parallel to order: which core a PU belongs to
  if (req.allow_smt) {
    for (size_t c = 0; c < cores.size(); ++c)
      for (int pu : cores[c]) order.push_back(pu), core_of.push_back(static_cast<int>(c));
  } else {
    for (size_t round = 0;; ++round) {
      bool any = false;
      for (size_t c = 0; c < cores.size(); ++c) {
        if (round < cores[c].size()) {
          order.push_back(cores[c][round]);
          core_of.push_back(static_cast<int>(c));
          any = true;
        }
      }
      if (!any) break;
    }
  }

  const int threads = req.vcpus + req.invalidators;
  const int available = static_cast<int>(order.size());
  if (threads > available && !req.overcommit) {
    throw UsageError(fmt::format(
        "{} ({} + {}) need {}; {} has {}; pass --overcommit or use fewer",
        count_of(threads, "thread", "threads"), count_of(req.vcpus, "vCPU", "vCPUs"),
        count_of(req.invalidators, "invalidator", "invalidators"),
        count_of(threads, "PU", "PUs"), scope_name, available));
  }
  if (threads > 0 && available == 0)
    throw UnavailableError("no PUs in " + scope_name + " to place threads on");

  std::set<int> cores_used;
  for (int i = 0; i < threads; ++i) {
    const int slot = i % available;
    const int pu = order[slot];
    if (i < req.vcpus)
      plan.vcpu_pus.push_back(pu);
    else
      plan.invalidator_pus.push_back(pu);
    if (i < available && !cores_used.insert(core_of[slot]).second) plan.uses_smt = true;
  }
  plan.overcommitted = threads > available;
  if (req.co_runners) plan.co_runner_pus = plan.vcpu_pus;
  return plan;
}

std::string Placement::describe() const {
  std::vector<std::string> parts;
  for (size_t i = 0; i < vcpu_pus.size(); ++i) parts.push_back(fmt::format("vCPU{}->PU{}", i, vcpu_pus[i]));
  for (size_t i = 0; i < invalidator_pus.size(); ++i)
    parts.push_back(fmt::format("invalidator{}->PU{}", i, invalidator_pus[i]));
  for (size_t i = 0; i < co_runner_pus.size(); ++i)
    parts.push_back(fmt::format("co-runner{}->PU{}", i, co_runner_pus[i]));
  std::string out = fmt::format("{}", fmt::join(parts, " "));
  out += fmt::format(" (NUMA node{} {})", numa_nodes.size() == 1 ? "" : "s", fmt::join(numa_nodes, ","));
  if (uses_smt) out += " [SMT siblings shared]";
  if (overcommitted) out += " [overcommitted: threads share PUs]";
  return out;
}

}  // namespace gpc
