#include "scenarios/placement_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

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

CachePlacement parse_cache_placement(const std::string& text) {
  if (text.empty()) return CachePlacement::kLegacy;
  if (text == "alone") return CachePlacement::kAlone;
  if (text == "shared") return CachePlacement::kShared;
  if (text == "overcommit") return CachePlacement::kOvercommit;
  throw UsageError(fmt::format("--placement {}: use alone (the waiter has its PU to itself), shared (a co-runner "
                               "on the waiter's PU) or overcommit (co-runner and invalidators on the waiter's PU)",
                               text));
}

const char* placement_name(CachePlacement placement) {
  switch (placement) {
    case CachePlacement::kAlone: return "alone";
    case CachePlacement::kShared: return "shared";
    case CachePlacement::kOvercommit: return "overcommit";
    case CachePlacement::kLegacy: break;
  }
  return "";
}

namespace {

// The first PU of the machine that no writer uses, -1 when the writers take every PU.
int first_free_pu(const Placement& plan, const Topology& topology) {
  for (const auto& core : topology.pus_by_core())
    for (int pu : core)
      if (std::find(plan.vcpu_pus.begin(), plan.vcpu_pus.end(), pu) == plan.vcpu_pus.end()) return pu;
  return -1;
}

}  // namespace

CachePlan plan_cache_placement(CachePlacement kind, int writers, int invalidators, bool co_runners, bool overcommit,
                               const Topology& topology) {
  CachePlan out;
  out.kind = kind;
  if (kind == CachePlacement::kLegacy) {
    out.pins = plan_cache(writers, invalidators, co_runners, overcommit, topology);
    return out;
  }
  const char* name = placement_name(kind);
  if (co_runners || overcommit)
    throw UsageError(fmt::format("--placement {} decides co-runners and sharing itself: drop --co-runner and "
                                 "--overcommit (shared = a co-runner on the waiter's PU; overcommit = co-runner "
                                 "and invalidators there too)",
                                 name));
  // Every named placement keeps the reader off the waiters' PUs, and alone needs a PU with
  // nothing but the waiter: one PU per writer plus one for everything else.
  if (topology.pus() < writers + 1)
    throw UnavailableError(fmt::format("--placement {} needs {} PUs (one per writer, one more for the invalidators "
                                       "and the reader); this machine has {}: use --writers {} or fewer",
                                       name, writers + 1, topology.pus(), std::max(1, topology.pus() - 1)));
  out.pins = plan_layer_k(writers, invalidators, PlacementOptions{}, topology);
  out.reader_pu = first_free_pu(out.pins, topology);
  if (kind == CachePlacement::kAlone) return out;
  out.pins.co_runner_pus = out.pins.vcpu_pus;
  if (kind == CachePlacement::kOvercommit) {
    for (size_t i = 0; i < out.pins.invalidator_pus.size(); ++i)
      out.pins.invalidator_pus[i] = out.pins.vcpu_pus[i % out.pins.vcpu_pus.size()];
    out.pins.overcommitted = true;
  }
  return out;
}

// 5%: not calibrated on an idle machine (there was none to measure on; see
// docs/methodology.md, "The placement check"). Measured 2026-12-01 on the 2-PU dev VM at load
// average 10 (six people building): alone 0.68-0.83 (the load took the waiter's PU, and the
// check said so), shared 0.92. On an idle machine a pinned thread alone waits only behind
// kernel threads and interrupts, well under 1%; one sharing its PU with a CPU-bound co-runner
// waits for the co-runner's slices, tens of percent. 5% sits between the two with room on
// both sides; recalibrate from `waiter_runqueue_wait_share` of an idle quick matrix.
const double kAloneMaxRunqueueWaitShare = 0.05;

bool placement_held(CachePlacement kind, double share) {
  if (kind == CachePlacement::kAlone) return share <= kAloneMaxRunqueueWaitShare;
  return share > kAloneMaxRunqueueWaitShare;
}

std::string placement_rule(CachePlacement kind) {
  if (kind == CachePlacement::kLegacy) return "";
  return fmt::format("held when the worst waiter's run-queue wait share (schedstat) is {} {:.1f}%",
                     kind == CachePlacement::kAlone ? "at most" : "above", 100 * kAloneMaxRunqueueWaitShare);
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
