#include "scenarios/placement_plan.hpp"

#include <algorithm>

#include "common/errors.hpp"

namespace gpc::scenarios {

void add_placement_options(CLI::App& scenario, PlacementOptions& options) {
  scenario.add_flag("--smt", options.smt,
                    "Fill SMT siblings of a core before the next core (default: one thread per core first)");
  scenario.add_flag("--overcommit", options.overcommit,
                    "Allow vCPU and invalidator threads to share PUs when there are too few");
}

Placement plan_layer_k(int vcpus, int invalidators, const PlacementOptions& options, const Topology& topology) {
  if (vcpus < 1) throw UsageError("--vcpus must be at least 1");
  if (invalidators < 0) throw UsageError("invalidator count must be >= 0");
  PlacementRequest req;
  req.vcpus = vcpus;
  req.allow_smt = options.smt;
  req.overcommit = options.overcommit;
  req.invalidators = invalidators;
  int spare = 0;  // PUs planned for invalidators when they only share among themselves
  if (!options.overcommit && invalidators > 0) {
    spare = std::max(1, std::min(invalidators, topology.pus() - vcpus));
    req.invalidators = spare;
  }
  Placement plan = plan_placement(topology, req);
  if (spare > 0 && spare < invalidators) {
    const std::vector<int> planned = plan.invalidator_pus;
    plan.invalidator_pus.clear();
    for (int i = 0; i < invalidators; ++i) plan.invalidator_pus.push_back(planned[static_cast<size_t>(i % spare)]);
  }
  return plan;
}

Placement plan_cache(int writers, int invalidators, bool co_runners, bool overcommit, const Topology& topology) {
  PlacementRequest req;
  req.vcpus = writers;
  req.invalidators = invalidators;
  req.co_runners = co_runners;
  req.overcommit = overcommit;
  return plan_placement(topology, req);
}

nlohmann::json pinning_json(const Placement& placement) {
  return {{"vcpus", placement.vcpu_pus},
          {"invalidators", placement.invalidator_pus},
          {"uses_smt", placement.uses_smt},
          {"overcommitted", placement.overcommitted},
          {"numa_nodes", placement.numa_nodes},
          {"describe", placement.describe()}};
}

}  // namespace gpc::scenarios
