// `gpcbench run cache` (layer E, BRIEF §2): writers use embedded pfn caches on memfd guest
// memory while invalidators do real memory operations bracketed by the notifier model; a
// reader checks what reached the guest pages. Measures the waiter's latency, the CPU it
// burns and what a co-runner on its PU keeps, per waiting strategy and policy.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "results/result_file.hpp"
#include "scenarios/cache_writer.hpp"
#include "kvm/vcpu_thread.hpp"
#include "scenarios/host_reader.hpp"
#include "scenarios/leak_check.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::scenarios {

struct CacheParams {
  RunOptions run;
  std::string strategy = "busy";
  std::string hook = "start";
  std::string filter = "global";
  std::string check = "rwlock";
  std::string invalidator = "mremap";
  std::string target = "cache";
  std::string rate = "0";  // per invalidator, Hz; 0 = free-running
  std::string hold = "0";  // invalidate_range_start -> _end extra time
  int writers = 1;
  bool co_runner = false;   // legacy (before --placement): a co-runner on each writer's PU
  bool overcommit = false;  // legacy: let the planner wrap threads around the PUs
  std::string placement;    // alone|shared|overcommit (placement_plan.hpp); "": the legacy flags
  std::string reader = "auto";  // guest | host | auto
  bool no_checker = false;
  std::string bug = "none";  // hidden: a deliberately broken model (stress --self-test)
};

struct CacheResult {
  BenchmarkRecord record;
  nlohmann::json run;
  std::vector<WriterResult> writers;
  ReaderCounts reader;
  std::string reader_kind;  // "guest" (the reader guest under /dev/kvm) or "host" (a host thread)
  std::string reader_reason;
  kvm::VcpuRunResult reader_vcpu;  // the reader guest's vCPU run (guest only)
  bool reader_hung = false;        // the reader guest had to be kicked: a violation
  std::string reader_problem;
  std::string halt_poll;  // the halt-poll parameters used, and their source
  bool reader_judged = false;  // reader anomalies count as violations for this invalidator mix
  LeakReport leaks;
  uint64_t violations = 0;
  uint64_t unsafe_violations = 0;
  std::string placement;       // the pinning plan, one line
  std::string placement_kind;  // alone|shared|overcommit, "" for the legacy flags
  int reader_pu = -1;          // where the reader (guest vCPU or host thread) was pinned; -1 unpinned
  std::vector<int> co_runner_pus;
};

// Throws UsageError for bad values (naming the valid ones) or a placement that does not
// fit, UnavailableError when an invalidator cannot run here.
CacheResult run_cache(const CacheParams& params);
// The benchmark name: cache/strategy:S/hook:H/filter:F/check:C/invalidator:L/target:T
// [/rate:R][/hold:D][/writers:N][/co-runner:on][/overcommit:on][/placement:P][/reader:host]. The reader
// guest is the default; a run the host thread read is named, so `compare` never pairs the two.
std::string cache_record_name(const CacheParams& params, const std::string& reader_kind = "guest");
void print_cache_table(const CacheResult& result);
void add_cache_scenario(CLI::App& run, int& exit_code);

}  // namespace gpc::scenarios
