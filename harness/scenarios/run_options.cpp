#include "scenarios/run_options.hpp"

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

}  // namespace gpc::scenarios
