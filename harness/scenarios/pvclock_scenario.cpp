#include "scenarios/pvclock_scenario.hpp"

#include <algorithm>
#include <string>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.hpp"
#include "common/loglinear.h"
#include "common/stop.hpp"
#include "gpc_guest/abi.h"
#include "kvm/binary_stats.hpp"
#include "kvm/guest_vm.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "scenarios/kvm_metrics.hpp"

namespace gpc::scenarios {
namespace {

// vCPU i's pvclock page is the first page of its data area; its latency histogram lives
// in low memory (GPC_GUEST_HIST_GPA), out of every invalidator's reach.
constexpr uint64_t kPvclockOffset = 0;
static_assert(GPC_LL_BUCKETS * sizeof(uint64_t) <= GPC_GUEST_HIST_STRIDE);
static_assert(GPC_GUEST_HIST_GPA + GPC_GUEST_MAX_VCPUS * GPC_GUEST_HIST_STRIDE <= GPC_GUEST_CODE_GPA);
static_assert(GPC_PVC_COUNT <= GPC_UCALL_MAX_VALUES);

std::string record_name(const PvclockParams& p) {
  return fmt::format("pvclock/vcpus:{}", p.vcpus) + invalidation_name_part(p);
}

}  // namespace

ProbeResult probe_pvclock_invalidator(InvalidatorType type, Target target, BackingKind backing) {
  // KVM rewrites the pvclock page on every update: content loss is accepted.
  return probe_data_slot(type, target, backing, true);
}

std::vector<Feature> pvclock_invalidator_features(const Feature& pvclock_scenario) {
  std::vector<Feature> out;
  for (Target target : {Target::cache, Target::neighbour, Target::unrelated}) {
    for (InvalidatorType type : all_invalidator_types()) {
      Feature f{fmt::format("pvclock:invalidator:{}/target:{}", invalidator_name(type), target_name(target)), false,
                ""};
      if (!pvclock_scenario.runs_here) {
        f.reason = pvclock_scenario.reason;
      } else {
        const ProbeResult p = probe_pvclock_invalidator(type, target);
        f.runs_here = p.runs_here;
        f.reason = p.runs_here ? fmt::format("--backing {}", backing_name(kPvclockDefaultBacking)) : p.reason;
        if (p.runs_here && type == InvalidatorType::zap && target != Target::unrelated &&
            kPvclockDefaultBacking == BackingKind::anonymous)
          f.reason += ": the page refaults zeroed, KVM rewrites it; the guest counts zeroed_reads";
      }
      out.push_back(std::move(f));
    }
  }
  return out;
}

uint64_t PvclockResult::violations() const {
  uint64_t v = clock_outside;
  for (const auto& c : vcpus) v += c.violations();
  return v;
}

PvclockResult run_pvclock(const PvclockParams& params) {
  if (params.vcpus < 1) throw UsageError("--vcpus must be at least 1");
  validate_invalidation(params, GPC_GUEST_DATA_SIZE, "the guest data slot");
  const int n_inval = static_cast<int>(params.invalidators.size());
  const Placement placement = plan_layer_k(params.vcpus, n_inval, params.placement);

  // Probe every invalidator before anything is built: a combination that cannot run here
  // ends the run with probe()'s reason (exit 2).
  require_invalidators_run(params, "pvclock page", [&](InvalidatorType t) {
    return probe_pvclock_invalidator(t, params.target, params.backing);
  });

  const std::unique_ptr<GuestRegion> region = make_data_region(params);
  kvm::Kvm kvm;
  kvm::GuestVm g(kvm, {"pvclock", params.vcpus, region->data()});
  auto* marker = g.vm().gpa_ptr<uint64_t>(GPC_GUEST_MARKER_GPA);
  *marker = 0;
  for (int i = 0; i < params.vcpus; ++i) {
    gpc_guest_boot& b = g.boot(i);
    b.duration_ns = static_cast<uint64_t>(params.run.duration.count());
    b.sync_interval_ns = static_cast<uint64_t>(params.sync_interval.count());
    b.pvclock_gpa = kvm::GuestVm::data_gpa(i) + kPvclockOffset;
    b.hist_gpa = GPC_GUEST_HIST_GPA + uint64_t(i) * GPC_GUEST_HIST_STRIDE;
    b.inval_marker_gpa = n_inval > 0 ? GPC_GUEST_MARKER_GPA : 0;
  }
  kvm::BinaryStats vm_stats(g.vm().stats_fd());

  // Invalidators: no listener (the kernel's own MMU notifier fires inside each syscall);
  // the `cache` target is vCPU 0's pvclock page.
  InvalidatorRunner runner(
      make_data_slot_invalidators(params, *region, reinterpret_cast<uintptr_t>(g.data_hva(0)) + kPvclockOffset,
                                  true, [marker](InvalidatorType) { return marker; }),
      placement.invalidator_pus, RunnerOptions{params.rate_hz});

  std::vector<std::unique_ptr<kvm::VcpuThread>> threads;
  std::vector<kvm::VcpuThread*> raw;
  for (int i = 0; i < params.vcpus; ++i) {
    threads.push_back(std::make_unique<kvm::VcpuThread>(g.vcpu(i), placement.vcpu_pus[static_cast<size_t>(i)]));
    raw.push_back(threads.back().get());
  }

  kvm::SupervisorOptions o;
  // The guests end themselves at the duration (on their pvclock); this bound only
  // catches runs that do not, with room for a machine busy with other work.
  o.time_limit = params.run.duration + std::max<Nanos>(std::chrono::seconds(5), params.run.duration / 2);
  o.watchdog = params.watchdog;
  o.request_guest_stop = [&g] { g.request_guest_stop(); };

  const kvm::StatsSnapshot vm_before = vm_stats.read();
  const uint64_t clock_before = g.vm().get_clock().clock;
  if (n_inval > 0) runner.start();
  std::vector<kvm::VcpuRunResult> results;
  try {
    results = kvm::run_vcpus(raw, o);
  } catch (...) {
    try {
      runner.stop();
    } catch (...) {  // the vCPUs' error is the one to report
    }
    throw;
  }
  runner.stop();  // rethrows an invalidator thread's error
  const uint64_t clock_after = g.vm().get_clock().clock;
  const auto vm_delta = kvm::stats_delta(vm_before, vm_stats.read());
  threads.clear();  // vCPU threads end here, before the VM
  kvm::throw_on_failure(results);

  PvclockResult out;
  out.placement = placement;
  out.invalidators = runner.stats();
  out.interrupted = stop_requested();
  std::map<std::string, double> vcpu_stats;
  Histogram all;
  double cpu_ns = 0, seconds = 0;
  for (const kvm::VcpuRunResult& r : results) {
    PvclockVcpuResult v;
    v.vcpu = r.vcpu;
    v.pu = r.pu;
    // REPORT at the end of a complete run; the last SYNC when Ctrl-C cut it short.
    const kvm::Ucall* u = r.report ? &*r.report
                          : (r.last_ucall && r.last_ucall->kind == kvm::UcallKind::Sync) ? &*r.last_ucall
                                                                                          : nullptr;
    if (u && u->values.size() == GPC_PVC_COUNT) {
      const auto& c = u->values;
      v.updates = c[GPC_PVC_UPDATES];
      v.odd = c[GPC_PVC_ODD];
      v.backwards = c[GPC_PVC_BACKWARDS];
      v.stale = c[GPC_PVC_STALE];
      v.retries = c[GPC_PVC_RETRIES];
      v.unstable_backwards = c[GPC_PVC_UNSTABLE_BACK];
      v.max_ns = c[GPC_PVC_MAX_NS];
      v.last_ns = c[GPC_PVC_LAST_NS];
      v.disturbed = c[GPC_PVC_DISTURBED];
      v.zeroed = c[GPC_PVC_ZEROED];
      if (r.report && (v.last_ns < clock_before || v.last_ns > clock_after)) ++out.clock_outside;
    }
    v.latency = read_guest_histogram(g, g.boot(r.vcpu).hist_gpa);
    v.seconds = r.elapsed_ns / 1e9;
    v.cpu_ns = r.cpu_ns;
    all.merge(v.latency);
    cpu_ns += r.cpu_ns;
    seconds = std::max(seconds, v.seconds);
    kvm::accumulate_stats(vcpu_stats, r.stats);
    out.vcpus.push_back(std::move(v));
  }

  uint64_t updates = 0, retries = 0, unstable = 0, max_ns = 0, disturbed = 0, zeroed = 0;
  for (const auto& v : out.vcpus) {
    updates += v.updates;
    retries += v.retries;
    unstable += v.unstable_backwards;
    max_ns = std::max(max_ns, v.max_ns);
    disturbed += v.disturbed;
    zeroed += v.zeroed;
  }
  BenchmarkRecord& rec = out.record;
  rec.name = record_name(params);
  rec.iterations = static_cast<int64_t>(updates);
  rec.threads = params.vcpus;
  rec.real_time_ns = all.mean();
  rec.cpu_time_ns = updates ? cpu_ns / static_cast<double>(updates) : 0;
  rec.label = out.interrupted ? "interrupted" : "";
  add_latency_counters(rec, all);
  rec.counters["max_ns"] = static_cast<double>(max_ns);  // exact; the histogram rounds up
  rec.counters["ops_per_s"] = seconds > 0 ? static_cast<double>(updates) / seconds : 0;
  rec.counters["cpu_ns_per_op"] = rec.cpu_time_ns;
  rec.counters["violations"] = static_cast<double>(out.violations());
  // which invariant, when one broke
  uint64_t odd = 0, stale = 0, backwards = 0;
  for (const auto& v : out.vcpus) odd += v.odd, stale += v.stale, backwards += v.backwards;
  rec.counters["odd_reads"] = static_cast<double>(odd);
  rec.counters["stale_reads"] = static_cast<double>(stale);
  rec.counters["backward_steps"] = static_cast<double>(backwards);
  rec.counters["clock_outside"] = static_cast<double>(out.clock_outside);
  rec.counters["version_retries"] = static_cast<double>(retries);
  rec.counters["unstable_backward_steps"] = static_cast<double>(unstable);
  if (n_inval > 0) {
    rec.counters["disturbed_reads"] = static_cast<double>(disturbed);
    rec.counters["zeroed_reads"] = static_cast<double>(zeroed);
    runner.add_counters(rec);
  }
  add_kvm_stat_counters(rec, vcpu_stats, vm_delta);
  rec.histograms["latency"] = all;

  nlohmann::json run_params = {{"vcpus", params.vcpus},
                                {"pus", placement.vcpu_pus},
                                {"pinning", pinning_json(placement)},
                                {"smt", params.placement.smt},
                                {"overcommit", params.placement.overcommit},
                                {"cache_gpa", kvm::GuestVm::data_gpa(0) + kPvclockOffset},
                                {"sync_interval_ns", params.sync_interval.count()},
                                {"interrupted", out.interrupted}};
  run_params.update(invalidation_json(params, *region));
  out.run = run_context("pvclock", params.run, run_params);
  return out;
}

void print_pvclock_table(const PvclockResult& r) {
  fmt::print("pinning: {}\n", r.placement.describe());
  fmt::print("{:>5} {:>4} {:>10} {:>11} {:>9} {:>9} {:>9} {:>10} {:>8} {:>9} {:>7}\n", "vcpu", "pu", "updates",
             "updates/s", "p50", "p99", "max", "violations", "retries", "disturbed", "zeroed");
  for (const auto& v : r.vcpus)
    fmt::print("{:>5} {:>4} {:>10} {:>11.0f} {:>9} {:>9} {:>9} {:>10} {:>8} {:>9} {:>7}\n", v.vcpu, v.pu,
               v.updates, v.seconds > 0 ? static_cast<double>(v.updates) / v.seconds : 0.0,
               format_ns(static_cast<double>(v.latency.quantile(0.5))),
               format_ns(static_cast<double>(v.latency.quantile(0.99))),
               format_ns(static_cast<double>(v.max_ns)), v.violations(), v.retries, v.disturbed, v.zeroed);
  const auto& c = r.record.counters;
  fmt::print("{:>5} {:>4} {:>10} {:>11.0f} {:>9} {:>9} {:>9} {:>10}\n", "all", "", r.record.iterations,
             c.at("ops_per_s"), format_ns(c.at("p50_ns")), format_ns(c.at("p99_ns")),
             format_ns(c.at("max_ns")), r.violations());
  if (r.violations() > 0)
    fmt::print("violations: odd {:.0f}  stale {:.0f}  backwards {:.0f}  outside KVM_GET_CLOCK {:.0f}\n",
               c.at("odd_reads"), c.at("stale_reads"), c.at("backward_steps"), c.at("clock_outside"));
  if (r.clock_outside)
    fmt::print("violation: {} vCPU(s) reported a time outside KVM_GET_CLOCK before/after\n",
               r.clock_outside);
  if (!r.invalidators.empty()) {
    print_invalidator_table(r.invalidators, r.placement.invalidator_pus);
    fmt::print("disturbed = anomalous guest reads while an invalidator step overlapped the update (the host's own "
               "copy or zeroing, not violations); zeroed = of those, reads of a zeroed page\n");
  }
  std::string stats;
  for (const std::string& name : key_kvm_stats())
    if (auto it = c.find("kvm_" + name); it != c.end())
      stats += fmt::format("  {} {:.0f}", name, it->second);
  fmt::print("KVM stats (deltas):{}\n", stats);
  fmt::print("latency = guest TSC around one MSR_KVM_SYSTEM_TIME_NEW write (the kvmclock update)\n");
}

void add_pvclock_scenario(CLI::App& run, int& exit_code) {
  auto params = std::make_shared<PvclockParams>();
  auto text = std::make_shared<InvalidationFlags>();
  text->backing = backing_name(kPvclockDefaultBacking);
  auto* cmd = run.add_subcommand(
      "pvclock",
      "Layer K: vCPUs rewrite MSR_KVM_SYSTEM_TIME_NEW so KVM refreshes their pvclock pages "
      "through the gfn_to_pfn_cache; the guests check every page they read back, while optional "
      "host invalidators change the memory behind the pages");
  add_run_options(*cmd, params->run);
  add_placement_options(*cmd, params->placement);
  cmd->add_option("--vcpus", params->vcpus, "vCPUs, one pinned thread each (default 1)")
      ->check(CLI::Range(1, static_cast<int>(GPC_GUEST_MAX_VCPUS)));
  add_invalidation_flags(*cmd, *text, "vCPU 0's pvclock page");
  cmd->add_option("--range-size", params->range_size, "Bytes per invalidator operation (default 4096)");
  cmd->callback([params, text, &exit_code] {
    finalize_run_options(params->run);
    apply_invalidation_flags(*text, *params);
    const PvclockResult r = run_pvclock(*params);
    if (!params->run.quiet) print_pvclock_table(r);
    write_run_result(params->run, r.run, {r.record});
    exit_code = r.violations() > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace gpc::scenarios
