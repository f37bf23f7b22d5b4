// `gpcbench run pingpong`: guests that only OUT to a port, the host re-entering at once.
// Each KVM_RUN is one exit round trip (guest -> KVM -> userspace -> KVM -> guest): the
// floor under every ucall and every layer-K measurement.
#pragma once

#include <CLI/CLI.hpp>
#include <vector>

#include "common/histogram.hpp"
#include "results/result_file.hpp"
#include "scenarios/placement_plan.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::scenarios {

struct PingpongParams {
  RunOptions run;
  int vcpus = 1;
  PlacementOptions placement;  // --smt, --overcommit (plan_layer_k)
};

struct PingpongResult {
  std::vector<uint64_t> exits;  // per vCPU
  std::vector<int> pus;
  Histogram round_trip;         // ns per KVM_RUN, all vCPUs
  bool interrupted = false;
  BenchmarkRecord record;
  nlohmann::json run;
};

PingpongResult run_pingpong(const PingpongParams& params);
void add_pingpong_scenario(CLI::App& run, int& exit_code);

}  // namespace gpc::scenarios
