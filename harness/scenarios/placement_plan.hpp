// Placement, the first part of every scenario's rig (rig.hpp): which PU each thread of a
// run gets, from the topology planner (topology/placement.hpp), and how the plan is
// recorded. One planner per scenario family, so a placement axis is added in one place.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "topology/placement.hpp"
#include "topology/topology.hpp"

namespace gpc::scenarios {

// Placement flags of the layer K scenarios (`--smt`, `--overcommit`).
struct PlacementOptions {
  bool smt = false;         // pack threads onto SMT siblings before using another core
  bool overcommit = false;  // let vCPU and invalidator threads share PUs
};
void add_placement_options(CLI::App& scenario, PlacementOptions& options);

// The pinning plan of a layer K run, from the topology planner (plan_placement). Every
// vCPU gets its own PU. Invalidator threads are load, not measurement: without
// --overcommit they share the PUs left after the vCPUs (at least one), never a vCPU's;
// with --overcommit the planner wraps all threads around the PUs. Throws the planner's
// UsageError (exit 2) when the vCPUs plus one invalidator PU do not fit.
Placement plan_layer_k(int vcpus, int invalidators, const PlacementOptions& options,
                       const Topology& topology = Topology::system());

// The plan of `run cache`: one PU per writer and per invalidator (more threads than PUs
// only with `overcommit`), and with `co_runners` one co-runner on each writer's PU.
Placement plan_cache(int writers, int invalidators, bool co_runners, bool overcommit,
                     const Topology& topology = Topology::system());

// The named placements of `run cache --placement` (issue 14), the case the maintainer asked
// about first: where does the waiter (the writer, a vCPU's kernel code) run, and with whom?
//   alone       the waiter is the only runnable thread on its PU: invalidators, the reader
//               (guest vCPU or host thread) and nothing else on the other PUs, so the PU
//               idles while the waiter sleeps;
//   shared      as alone, plus a co-runner pinned on each waiter's PU;
//   overcommit  as shared, and the invalidators also run on the waiters' PUs: more runnable
//               threads than the waiter's PU can run, the waiter competing with the very
//               thread whose range_end it waits for (lock-holder preemption's shape).
// A placement this machine cannot give is refused (UnavailableError, exit 2), never degraded.
enum class CachePlacement { kLegacy, kAlone, kShared, kOvercommit };
// "" -> kLegacy (the --co-runner/--overcommit flags decide, as before issue 14).
CachePlacement parse_cache_placement(const std::string& text);
const char* placement_name(CachePlacement placement);  // "" for kLegacy

struct CachePlan {
  CachePlacement kind = CachePlacement::kLegacy;
  Placement pins;
  int reader_pu = -1;  // -1: unpinned (legacy)
};
// `co_runners`/`overcommit` are the legacy flags; with a named placement they must be off
// (UsageError naming the placement that replaces them).
CachePlan plan_cache_placement(CachePlacement kind, int writers, int invalidators, bool co_runners, bool overcommit,
                               const Topology& topology = Topology::system());

// Whether a run's placement held, from the worst writer's run-queue wait share (the fraction
// of the run it was runnable but not running, thread_sched.hpp). alone holds while it stays at
// or below kAloneMaxRunqueueWaitShare; shared and overcommit hold while it is above it (the
// co-runner really took turns on the waiter's PU). The threshold: placement_plan.cpp.
extern const double kAloneMaxRunqueueWaitShare;
bool placement_held(CachePlacement kind, double worst_runqueue_wait_share);
std::string placement_rule(CachePlacement kind);  // the rule above in words, for context.run

// context["run"]["pinning"]: {"vcpus": [PU...], "invalidators": [PU...], "uses_smt",
// "overcommitted", "numa_nodes", "describe"}.
nlohmann::json pinning_json(const Placement& placement);

}  // namespace gpc::scenarios
