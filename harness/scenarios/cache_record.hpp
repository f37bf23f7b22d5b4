// The verdict, record and context of `run cache`: the common record (scenario_record.hpp)
// with the cache scenario's own counters beside it, grouped by who measured them (the
// writers, the model, the reader).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/histogram.hpp"
#include "results/result_file.hpp"
#include "scenarios/cache_model.hpp"
#include "scenarios/cache_scenario.hpp"

namespace gpc::scenarios {

// The writers' results summed.
struct WriterTotals {
  Histogram latency;  // every wait for a valid cache
  uint64_t timeouts = 0, failures = 0, null_skips = 0, waits = 0, page_behind = 0, iterations = 0;
  double seconds = 0;  // the longest writer loop
  double wait_cpu_ns = 0, task_clock_ns = 0, context_switches = 0, cycles = 0;
  CollisionSplit split;  // the waits, collided apart from the others
  bool sched_ok = true;  // every writer read its schedstat and status
  double max_runqueue_wait_share = 0;  // the worst writer's (placement evidence)
  double max_nonvoluntary_per_s = 0;
  bool perf_ok = true;  // every writer had its perf software counters
  bool cycles_ok = false;
  std::string cycles_reason;
};
WriterTotals sum_writers(const std::vector<WriterResult>& writers);

// Sets out.violations (unexpected: they fail the run) and out.unsafe_violations (hook=end
// breaches, and what the reader saw in such a run, since the breach is what loses the
// writes: labelled, never failing).
void judge_cache_run(CacheResult& out, const WriterTotals& writers, const CacheModelTotals& model, bool unsafe);

// `invalidators` holds the rig's invalidator counters, read before the rig was torn down.
BenchmarkRecord cache_record(const CacheParams& params, const CacheResult& out, const WriterTotals& writers,
                             const CacheModelTotals& model, double corunner_progress, bool unsafe, bool interrupted,
                             BenchmarkRecord invalidators);

// context["run"] of `run cache`.
nlohmann::json cache_run_json(const CacheParams& params, const CacheResult& out, const Placement& placement,
                              const WriterTotals& writers, bool unsafe, bool interrupted);

}  // namespace gpc::scenarios
