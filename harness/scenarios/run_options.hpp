// Options every `gpcbench run` scenario shares (CONTRACTS.md): --duration, --seed,
// --json, --quiet; and writing a scenario's result file in the common schema.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "results/result_file.hpp"

namespace gpc::scenarios {

struct RunOptions {
  std::string duration_text = "3s";
  Nanos duration = std::chrono::seconds(3);  // parsed from duration_text by finalize()
  uint64_t seed = 1;
  std::string json_path;  // empty: no result file
  bool json_requested = false;  // --json was given (even as --json '', which is refused)
  bool quiet = false;     // no table
};

// Registers the shared flags on a scenario's subcommand; values land in `options`.
void add_run_options(CLI::App& scenario, RunOptions& options);

// Parses and validates what CLI11 cannot (durations, the --json path); throws UsageError
// naming the flag.
void finalize_run_options(RunOptions& options);

// context["run"]: {"scenario": name, "duration_ns", "duration", "seed", ...params}.
nlohmann::json run_context(const std::string& scenario, const RunOptions& options,
                           const nlohmann::json& params);

// Writes `records` with context = capture_environment() plus "run" to options.json_path
// (no-op when empty).
void write_run_result(const RunOptions& options, const nlohmann::json& run,
                      std::vector<BenchmarkRecord> records);

}  // namespace gpc::scenarios
