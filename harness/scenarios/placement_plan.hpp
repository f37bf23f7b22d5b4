// Placement, the first part of every scenario's rig (rig.hpp): which PU each thread of a
// run gets, from the topology planner (topology/placement.hpp), and how the plan is
// recorded. One planner per scenario family, so a placement axis is added in one place.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

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

// context["run"]["pinning"]: {"vcpus": [PU...], "invalidators": [PU...], "uses_smt",
// "overcommitted", "numa_nodes", "describe"}.
nlohmann::json pinning_json(const Placement& placement);

}  // namespace gpc::scenarios
