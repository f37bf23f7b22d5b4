// `gpcbench calibrate --out DIR [stream flags]`: the model beside the kernel under one
// invalidator stream (harness/calibrate/), then the fidelity report
// (results/report/gpc_calibration.py). Without a usable /dev/kvm: exit 2 with the reason.
#include <cstdio>
#include <memory>

#include "calibrate/calibration_run.hpp"
#include "cli/verbs.hpp"
#include "common/errors.hpp"
#include "common/stop.hpp"
#include "matrix/python_tool.hpp"

namespace gpc::cli {

void add_calibrate_verb(CLI::App& app, int& exit_code) {
  auto p = std::make_shared<calibrate::CalibrationParams>();
  auto* cmd = app.add_subcommand(
      "calibrate",
      "Run one invalidator stream against the kernel's pvclock cache (layer K) and the model with busy, "
      "hook=start, filter=global (layer E), and report how close the model's refresh latency is to the kernel's");
  cmd->add_option("--out", p->out_dir, "Directory for runs/kernel-rep<k>.json and runs/model-rep<k>.json (required)");
  cmd->add_option("--invalidator", p->invalidator, "One invalidator type (default mremap)");
  cmd->add_option("--target", p->target, "cache, neighbour or unrelated (default cache)");
  cmd->add_option("--rate", p->rate, "Operations per second; 0 = free-running (default 0)");
  cmd->add_option("--hold", p->hold, "Pause between the operation and the bracket's end (default 0)");
  cmd->add_option("--repetitions", p->repetitions, "Runs per side, alternating (default 5)");
  cmd->add_option("--duration", p->run.duration_text, "Length of each run (default 3s)");
  cmd->add_option("--seed", p->run.seed, "Seed of every run (default 1)");
  scenarios::add_placement_options(*cmd, p->placement);
  cmd->callback([p, &exit_code] {
    scenarios::finalize_run_options(p->run);
    const int violations = calibrate::run_calibration(*p, [](const std::string& line) {
      std::printf("calibrate: %s\n", line.c_str());
      std::fflush(stdout);
    });
    if (stop_requested()) return;  // main() turns the signal into 128 + its number
    const int report = matrix::run_python_tool("gpc_calibration.py", {p->out_dir});
    exit_code = violations > 0 ? kExitFailure : report;
  });
}

}  // namespace gpc::cli
