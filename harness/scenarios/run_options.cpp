#include "scenarios/run_options.hpp"

#include "common/errors.hpp"
#include "env/environment.hpp"
#include "results/output_file.hpp"

namespace gpc::scenarios {

void add_run_options(CLI::App& scenario, RunOptions& options) {
  scenario.add_option("--duration", options.duration_text,
                      "How long to measure: a number with ns, us, ms, s or m (default 3s)");
  scenario.add_option("--seed", options.seed, "Seed for every random choice (default 1)");
  // A function option so `--json ''` is seen (and refused) rather than mistaken for no flag.
  scenario.add_option_function<std::string>(
      "--json",
      [&options](const std::string& path) {
        options.json_path = path;
        options.json_requested = true;
      },
      "Write the result (Google Benchmark JSON schema) to this file");
  scenario.add_flag("--quiet", options.quiet, "Print no table");
}

void finalize_run_options(RunOptions& options) {
  options.duration = parse_duration(options.duration_text, "--duration");
  if (options.duration.count() == 0)
    throw UsageError("--duration must be longer than 0 (e.g. --duration 3s)");
  // Before the run, not after it: a bad path must cost nothing (issue 15 item 1).
  if (options.json_requested) check_output_path(options.json_path, "--json");
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
