#include "scenarios/scenario_record.hpp"

#include <utility>

#include "common/errors.hpp"

namespace gpc::scenarios {

BenchmarkRecord make_record(const RecordCore& core, const Histogram& latency, const std::string& histogram,
                            BenchmarkRecord base) {
  BenchmarkRecord rec = std::move(base);
  rec.name = core.name;
  rec.iterations = static_cast<int64_t>(core.iterations);
  rec.threads = core.threads;
  rec.real_time_ns = latency.mean();
  rec.cpu_time_ns = core.cpu_ns_per_op.value_or(0);
  rec.label = core.interrupted ? "interrupted" : core.finding_label;
  add_latency_counters(rec, latency);
  rec.counters["ops_per_s"] = core.ops_per_s;
  if (core.cpu_ns_per_op) rec.counters["cpu_ns_per_op"] = *core.cpu_ns_per_op;
  rec.counters["violations"] = static_cast<double>(core.violations);
  rec.histograms[histogram] = latency;
  return rec;
}

void add_invalidator_counters(BenchmarkRecord& record, const Rig& rig) {
  if (const InvalidatorRunner* inv = rig.invalidators()) inv->add_counters(record);
}

int verdict_exit_code(uint64_t violations) { return violations > 0 ? kExitFailure : kExitOk; }

int report_run(const RunOptions& options, const nlohmann::json& run, const BenchmarkRecord& record,
               uint64_t violations, const std::function<void()>& print_table) {
  if (!options.quiet) print_table();
  write_run_result(options, run, {record});
  return verdict_exit_code(violations);
}

}  // namespace gpc::scenarios
