// `gpcbench run xen` (layer K): event channels sent with KVM_XEN_HVM_EVTCHN_SEND land in
// shared_info and vcpu_info, runstate is kept by KVM: all written through pfn caches.
// Needs KVM_CAP_XEN_HVM; without it the scenario exits 2 with the reason.
#pragma once

#include <CLI/CLI.hpp>
#include <vector>

#include "results/result_file.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::scenarios {

struct XenParams {
  RunOptions run;
  int vcpus = 1;
  PlacementOptions placement;  // --smt, --overcommit (plan_layer_k)
  Nanos send_interval = std::chrono::microseconds(200);
};

struct XenResult {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t violations = 0;
  BenchmarkRecord record;
  nlohmann::json run;
};

// Throws UnavailableError (with the reason) where KVM has no usable Xen emulation.
XenResult run_xen(const XenParams& params);
void add_xen_scenario(CLI::App& run, int& exit_code);

}  // namespace gpc::scenarios
