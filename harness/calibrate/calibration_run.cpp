#include "calibrate/calibration_run.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "env/environment.hpp"
#include "invalidators/invalidator.hpp"
#include "kvm/kvm_system.hpp"
#include "results/result_file.hpp"
#include "scenarios/cache_scenario.hpp"
#include "scenarios/pvclock_scenario.hpp"

namespace gpc::calibrate {
namespace {

InvalidatorType the_invalidator(const CalibrationParams& p) {
  const auto types = parse_invalidator_list(p.invalidator);
  if (types.size() != 1)
    throw UsageError("--invalidator takes one type for a calibration (one stream against both layers), got '" +
                     p.invalidator + "'");
  return types.front();
}

// "0" as `run cache` takes it (no unit needed for nothing), else a duration.
Nanos hold_of(const CalibrationParams& p) { return p.hold == "0" ? Nanos{0} : parse_duration(p.hold, "--hold"); }

scenarios::PvclockParams kernel_params(const CalibrationParams& p) {
  scenarios::PvclockParams k;
  k.run = p.run;
  k.run.json_path.clear();
  k.run.quiet = true;
  k.placement = p.placement;
  k.vcpus = 1;  // one refresher, as the model's one writer
  k.invalidators = {the_invalidator(p)};
  k.target = parse_target(p.target);
  k.rate_hz = parse_rate_hz(p.rate, "--rate");
  k.hold = hold_of(p);
  return k;
}

scenarios::CacheParams model_params(const CalibrationParams& p) {
  scenarios::CacheParams m;
  m.run = p.run;
  m.run.json_path.clear();
  m.run.quiet = true;
  m.strategy = "busy";  // upstream's busy retry (hva_to_pfn_retry + cond_resched)
  m.hook = "start";     // invalidated in invalidate_range_start, as upstream
  m.filter = "global";  // every invalidation forces a retry (mn_active_invalidate_count)
  m.invalidator = p.invalidator;
  m.target = p.target;
  m.rate = p.rate;
  m.hold = p.hold;
  m.overcommit = p.placement.overcommit;
  return m;
}

void write_side(const CalibrationParams& p, const std::string& side, int rep, nlohmann::json run,
                BenchmarkRecord record) {
  ResultFile file;
  file.context = capture_environment();
  file.context["run"] = std::move(run);
  file.context["calibration"] = calibration_stamp(p, side, rep);
  record.repetition_index = rep;
  record.repetitions = p.repetitions;
  file.benchmarks.push_back(std::move(record));
  // The matrix layout (DIR/runs/*.json), so `gpcbench report DIR` and gpc_calibration.py
  // read a calibration like any result set.
  const auto dir = std::filesystem::path(p.out_dir) / "runs";
  std::filesystem::create_directories(dir);
  write_result_file(dir / fmt::format("{}-rep{}.json", side, rep), file);
}

// One layer-K run (it owns its KernelEvidence session: layer_k_evidence.hpp); returns its
// violations.
uint64_t kernel_run(const CalibrationParams& p, int rep, const std::function<void(const std::string&)>& progress) {
  scenarios::PvclockResult r = scenarios::run_pvclock(kernel_params(p));
  progress(fmt::format("kernel rep {}: {} updates, p50 {}{}", rep, r.record.iterations,
                       format_ns(r.record.counters.at("p50_ns")), r.interrupted ? " (interrupted)" : ""));
  write_side(p, "kernel", rep, r.run, r.record);
  return r.violations();
}

uint64_t model_run(const CalibrationParams& p, int rep, const std::function<void(const std::string&)>& progress) {
  scenarios::CacheResult r = scenarios::run_cache(model_params(p));
  progress(fmt::format("model  rep {}: {} refreshes, p50 {}", rep, r.record.iterations,
                       format_ns(r.record.counters.at("p50_ns"))));
  write_side(p, "model", rep, r.run, r.record);
  return r.violations;
}

}  // namespace

nlohmann::json calibration_stamp(const CalibrationParams& p, const std::string& side, int repetition) {
  return {{"side", side},
          {"repetition", repetition},
          {"stream",
           {{"invalidator", std::string(invalidator_name(the_invalidator(p)))},
            {"target", std::string(target_name(parse_target(p.target)))},
            {"rate_hz", parse_rate_hz(p.rate, "--rate")},
            {"hold_ns", hold_of(p).count()},
            {"overcommit", p.placement.overcommit},
            {"smt", p.placement.smt}}}};
}

void check_calibration(const CalibrationParams& p) {
  if (p.repetitions < 1) throw UsageError("--repetitions must be at least 1 (5 give a testable median)");
  if (p.out_dir.empty()) throw UsageError("--out DIR is required: where the kernel/ and model/ results go");
  const scenarios::PvclockParams k = kernel_params(p);  // parses every flag once (UsageError)
  const kvm::KvmAvailability kvm = kvm::probe_kvm();
  if (!kvm.usable)
    throw UnavailableError("calibrate runs the kernel's own pvclock cache (layer K) and needs /dev/kvm: " +
                           kvm.reason);
  const ProbeResult probe = scenarios::probe_pvclock_invalidator(k.invalidators.front(), k.target, k.backing);
  if (!probe.runs_here)
    throw UnavailableError(fmt::format("{} on the pvclock page: {}", p.invalidator, probe.reason));
}

int run_calibration(const CalibrationParams& p, const std::function<void(const std::string&)>& progress) {
  check_calibration(p);
  uint64_t violations = 0;
  for (int rep = 0; rep < p.repetitions && !stop_requested(); ++rep) {
    // Alternate which side goes first, so a drift over the session hits both alike.
    if (rep % 2 == 0) {
      violations += kernel_run(p, rep, progress);
      if (!stop_requested()) violations += model_run(p, rep, progress);
    } else {
      violations += model_run(p, rep, progress);
      if (!stop_requested()) violations += kernel_run(p, rep, progress);
    }
  }
  return static_cast<int>(violations);
}

}  // namespace gpc::calibrate
