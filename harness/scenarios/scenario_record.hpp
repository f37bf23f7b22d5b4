// What every `gpcbench run` scenario reports, written once (issue 13): the record's common
// fields and counters (each scenario adds its own beside them), the invalidators' counters,
// and the verdict with the result file and table that end every run command.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/histogram.hpp"
#include "results/result_file.hpp"
#include "scenarios/rig.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::scenarios {

// num / den, 0 when den is 0 (a run that measured nothing).
inline double per(double num, double den) { return den > 0 ? num / den : 0; }

struct RecordCore {
  std::string name;
  int threads = 1;
  uint64_t iterations = 0;  // operations measured (refreshes, updates, delivered events)
  double ops_per_s = 0;
  // Also the record's cpu_time; unset where the scenario measures no CPU per operation.
  std::optional<double> cpu_ns_per_op;
  uint64_t violations = 0;  // unexpected violations: any fails the run
  bool interrupted = false;
  std::string finding_label;  // the label unless interrupted, e.g. "unsafe by design (hook=end)"
};

// name, iterations, threads, real_time (the latency mean), cpu_time, label ("interrupted"
// first), the latency counters (p50_ns ... max_ns, mean_ns), ops_per_s, cpu_ns_per_op when
// set, violations, and `latency` as histograms[histogram]; added to `base`, which holds
// what was read before the rig was torn down (the invalidators' counters), if anything.
BenchmarkRecord make_record(const RecordCore& core, const Histogram& latency,
                            const std::string& histogram = "latency", BenchmarkRecord base = {});

// The rig's invalidator counters (inval_*, per type) and histograms["inval"]; nothing
// when the rig has no invalidators.
void add_invalidator_counters(BenchmarkRecord& record, const Rig& rig);

// The verdict as an exit code: 1 with any unexpected violation, else 0 (BRIEF §4).
int verdict_exit_code(uint64_t violations);

// The end of every `run` command: the table unless --quiet, the result file with --json,
// then the verdict's exit code.
int report_run(const RunOptions& options, const nlohmann::json& run, const BenchmarkRecord& record,
               uint64_t violations, const std::function<void()>& print_table);

}  // namespace gpc::scenarios
