#include "scenarios/run_options.hpp"

#include <algorithm>

#include "common/errors.hpp"
#include "env/environment.hpp"

namespace gpc::scenarios {

void add_run_options(CLI::App& scenario, RunOptions& options) {
  scenario.add_option("--duration", options.duration_text,
                      "How long to measure: a number with ns, us, ms, s or m (default 3s)");
  scenario.add_option("--seed", options.seed, "Seed for every random choice (default 1)");
  scenario.add_option("--json", options.json_path,
                      "Write the result (Google Benchmark JSON schema) to this file");
  scenario.add_flag("--quiet", options.quiet, "Print no table");
}

void finalize_run_options(RunOptions& options) {
  options.duration = parse_duration(options.duration_text, "--duration");
  if (options.duration.count() == 0)
    throw UsageError("--duration must be longer than 0 (e.g. --duration 3s)");
}

nlohmann::json run_context(const std::string& scenario, const RunOptions& options,
                           const nlohmann::json& params) {
  nlohmann::json run = {{"scenario", scenario},
                        {"duration", options.duration_text},
                        {"duration_ns", options.duration.count()},
                        {"seed", options.seed}};
  for (const auto& [key, value] : params.items()) run[key] = value;
  return run;
}

void write_run_result(const RunOptions& options, const nlohmann::json& run,
                      std::vector<BenchmarkRecord> records) {
  if (options.json_path.empty()) return;
  ResultFile file;
  file.context = capture_environment();
  file.context["run"] = run;
  file.benchmarks = std::move(records);
  write_result_file(options.json_path, file);
}

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

nlohmann::json pinning_json(const Placement& placement) {
  return {{"vcpus", placement.vcpu_pus},
          {"invalidators", placement.invalidator_pus},
          {"uses_smt", placement.uses_smt},
          {"overcommitted", placement.overcommitted},
          {"numa_nodes", placement.numa_nodes},
          {"describe", placement.describe()}};
}

}  // namespace gpc::scenarios
