// `gpcbench calibrate`: one invalidator stream (type, rate, hold, target, placement) run
// against layer K (`run pvclock`: the kernel's pvclock cache, upstream's busy retry) and
// layer E (`run cache` with strategy busy, hook start, filter global), through the
// scenarios' public entry points, repetition after repetition with the two sides alternating
// which goes first (drift hits both alike). Each layer-K run has its KernelEvidence
// session (the run owns it: scenarios/layer_k_evidence.hpp), so the kernel's own account
// is there, and its refresh latency where kprobes exist. Results go to
// OUT/runs/kernel-rep<k>.json and OUT/runs/model-rep<k>.json (the matrix layout), stamped
// with context.calibration; the comparison is results/report/gpc_calibration.py.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/duration.hpp"
#include "invalidators/invalidator_types.hpp"
#include "scenarios/placement_plan.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::calibrate {

struct CalibrationParams {
  scenarios::RunOptions run;  // duration and seed of every run; json_path unused
  std::string invalidator = "mremap";
  std::string target = "cache";
  std::string rate = "0";  // per second; 0 = free-running
  std::string hold = "0";
  scenarios::PlacementOptions placement;
  int repetitions = 5;
  std::string out_dir;
};

// context.calibration of a run: {"side": side, "stream": {...}, "repetition": rep}.
nlohmann::json calibration_stamp(const CalibrationParams& params, const std::string& side, int repetition);

// Throws UsageError for bad values (naming the flag) and UnavailableError when this machine
// cannot run layer K (no usable /dev/kvm: the reason) or the invalidator (its probe's
// reason), before anything runs.
void check_calibration(const CalibrationParams& params);

// Runs every repetition; returns the number of runs that broke an invariant.
// `progress` gets one line per finished run.
int run_calibration(const CalibrationParams& params, const std::function<void(const std::string&)>& progress);

}  // namespace gpc::calibrate
