#include "scenarios/pvclock_scenario.hpp"

#include <algorithm>
#include <string>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.hpp"
#include "common/loglinear.h"
#include "gpc_guest/abi.h"
#include "kvm/binary_stats.hpp"
#include "kvm/guest_vm.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "scenarios/kvm_metrics.hpp"
#include "scenarios/layer_k_evidence.hpp"
#include "scenarios/layer_k_vm.hpp"
#include "scenarios/measurement_phase.hpp"
#include "scenarios/rig.hpp"
#include "scenarios/scenario_record.hpp"

namespace gpc::scenarios {
namespace {

// vCPU i's pvclock page is the first page of its data area; its latency histogram lives
// in low memory (GPC_GUEST_HIST_GPA), out of every invalidator's reach.
constexpr uint64_t kPvclockOffset = 0;
static_assert(GPC_LL_BUCKETS * sizeof(uint64_t) <= GPC_GUEST_HIST_STRIDE);
static_assert(GPC_GUEST_HIST_GPA + GPC_GUEST_MAX_VCPUS * GPC_GUEST_HIST_STRIDE <= GPC_GUEST_CODE_GPA);
static_assert(GPC_PVC_COUNT <= GPC_UCALL_MAX_VALUES);

std::string pvclock_record_name(const PvclockParams& p) {
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

namespace {

// The rig's subject: the VM with vCPU i's pvclock page at the start of its data area and
// its latency histogram in low memory, every guest ending itself at the run's duration.
LayerKVm& build_pvclock_vm(Rig& rig, const PvclockParams& params) {
  GuestRegion& region = rig.set_memory(make_data_region(params));
  LayerKVm& vm = rig.set_subject(std::make_unique<LayerKVm>(kvm::Kvm(), "pvclock", params.vcpus, region));
  for (int i = 0; i < params.vcpus; ++i) {
    gpc_guest_boot& b = vm.guest().boot(i);
    b.duration_ns = static_cast<uint64_t>(params.run.duration.count());
    b.sync_interval_ns = static_cast<uint64_t>(params.sync_interval.count());
    b.pvclock_gpa = kvm::GuestVm::data_gpa(i) + kPvclockOffset;
    b.hist_gpa = GPC_GUEST_HIST_GPA + uint64_t(i) * GPC_GUEST_HIST_STRIDE;
    b.inval_marker_gpa = params.invalidators.empty() ? 0 : GPC_GUEST_MARKER_GPA;
  }
  return vm;
}

// KVM_GET_CLOCK before and after the run: a complete run's last guest time lies inside.
struct ClockWindow {
  uint64_t before = 0, after = 0;
};

// One vCPU's counts from its REPORT (or last SYNC) and its histogram in guest memory.
PvclockVcpuResult pvclock_vcpu(const kvm::VcpuRunResult& r, const kvm::GuestVm& guest, ClockWindow clock,
                               uint64_t& clock_outside) {
  PvclockVcpuResult v;
  v.vcpu = r.vcpu;
  v.pu = r.pu;
  if (const kvm::Ucall* u = final_counts(r); u && u->values.size() == GPC_PVC_COUNT) {
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
    if (r.report && (v.last_ns < clock.before || v.last_ns > clock.after)) ++clock_outside;
  }
  v.latency = read_guest_histogram(guest, guest.boot(r.vcpu).hist_gpa);
  v.seconds = r.elapsed_ns / 1e9;
  v.cpu_ns = r.cpu_ns;
  return v;
}

// Sums over the vCPUs, for the record.
struct PvclockTotals {
  Histogram latency;
  double cpu_ns = 0, seconds = 0;
  uint64_t updates = 0, retries = 0, unstable = 0, max_ns = 0, disturbed = 0, zeroed = 0;
  uint64_t odd = 0, stale = 0, backwards = 0;
};

PvclockTotals pvclock_totals(const std::vector<PvclockVcpuResult>& vcpus) {
  PvclockTotals t;
  for (const PvclockVcpuResult& v : vcpus) {
    t.latency.merge(v.latency);
    t.cpu_ns += v.cpu_ns;
    t.seconds = std::max(t.seconds, v.seconds);
    t.updates += v.updates;
    t.retries += v.retries;
    t.unstable += v.unstable_backwards;
    t.max_ns = std::max(t.max_ns, v.max_ns);
    t.disturbed += v.disturbed;
    t.zeroed += v.zeroed;
    t.odd += v.odd;
    t.stale += v.stale;
    t.backwards += v.backwards;
  }
  return t;
}

// The common record plus pvclock's own counters: which invariant broke, the guests'
// version retries, what the invalidators disturbed, and the KVM stat deltas.
BenchmarkRecord pvclock_record(const PvclockParams& params, const PvclockResult& out, const Rig& rig,
                               const std::map<std::string, double>& vcpu_stats,
                               const std::map<std::string, double>& vm_delta) {
  const PvclockTotals t = pvclock_totals(out.vcpus);
  RecordCore core;
  core.name = pvclock_record_name(params);
  core.threads = params.vcpus;
  core.iterations = t.updates;
  core.ops_per_s = per(static_cast<double>(t.updates), t.seconds);
  core.cpu_ns_per_op = per(t.cpu_ns, static_cast<double>(t.updates));
  core.violations = out.violations();
  core.interrupted = out.interrupted;
  BenchmarkRecord rec = make_record(core, t.latency);
  auto& c = rec.counters;
  c["max_ns"] = static_cast<double>(t.max_ns);  // exact; the histogram rounds up
  c["odd_reads"] = static_cast<double>(t.odd);
  c["stale_reads"] = static_cast<double>(t.stale);
  c["backward_steps"] = static_cast<double>(t.backwards);
  c["clock_outside"] = static_cast<double>(out.clock_outside);
  c["version_retries"] = static_cast<double>(t.retries);
  c["unstable_backward_steps"] = static_cast<double>(t.unstable);
  if (!params.invalidators.empty()) {
    c["disturbed_reads"] = static_cast<double>(t.disturbed);
    c["zeroed_reads"] = static_cast<double>(t.zeroed);
  }
  add_layer_k_counters(rec, rig, vcpu_stats, vm_delta);
  return rec;
}

}  // namespace

PvclockResult run_pvclock(const PvclockParams& params) {
  if (params.vcpus < 1) throw UsageError("--vcpus must be at least 1");
  validate_invalidation(params, GPC_GUEST_DATA_SIZE, "the guest data slot");
  Rig rig(plan_layer_k(params.vcpus, static_cast<int>(params.invalidators.size()), params.placement));
  // Probe every invalidator before anything is built: a combination that cannot run here
  // ends the run with probe()'s reason (exit 2).
  require_invalidators_run(params, "pvclock page", [&](InvalidatorType t) {
    return probe_pvclock_invalidator(t, params.target, params.backing);
  });
  LayerKVm& vm = build_pvclock_vm(rig, params);
  // No listener: the kernel's own MMU notifier fires inside each syscall. The `cache`
  // target is vCPU 0's pvclock page; every type announces its steps in the marker.
  uint64_t* marker = vm.marker();
  const uintptr_t cache_hva = reinterpret_cast<uintptr_t>(vm.guest().data_hva(0)) + kPvclockOffset;
  LayerKEvidence& evidence =
      rig.add_observer(std::make_unique<LayerKEvidence>(cache_hva, params.invalidators.size()));
  rig.set_invalidators(make_data_slot_invalidators(params, rig.memory(), cache_hva, true,
                                                   [marker](InvalidatorType) { return marker; }),
                       params.rate_hz, evidence.op_log());
  kvm::SupervisorOptions supervision = self_ending_guests(vm.guest(), params.run.duration);
  supervision.watchdog = params.watchdog;

  const kvm::StatsSnapshot vm_before = vm.stats();
  ClockWindow clock{vm.vm().get_clock().clock, 0};
  MeasurementPhase phase(rig);
  const std::vector<kvm::VcpuRunResult> results = run_guests(vm.guest(), rig.placement().vcpu_pus, supervision);
  phase.end();  // rethrows an invalidator thread's error
  clock.after = vm.vm().get_clock().clock;
  const auto vm_delta = kvm::stats_delta(vm_before, vm.stats());
  kvm::throw_on_failure(results);

  PvclockResult out;
  out.placement = rig.placement();
  out.invalidators = rig.invalidators() ? rig.invalidators()->stats() : std::vector<InvalidatorStats>{};
  out.interrupted = phase.interrupted();
  for (const kvm::VcpuRunResult& r : results) out.vcpus.push_back(pvclock_vcpu(r, vm.guest(), clock, out.clock_outside));
  out.record = pvclock_record(params, out, rig, summed_vcpu_stats(results), vm_delta);
  nlohmann::json run = layer_k_run_json(params.vcpus, out.placement, params.placement,
                                        kvm::GuestVm::data_gpa(0) + kPvclockOffset, out.interrupted);
  run["sync_interval_ns"] = params.sync_interval.count();
  run.update(invalidation_json(params, rig.memory()));
  out.run = run_context("pvclock", params.run, run);
  evidence.add_to(out.record, out.run, out.record.iterations);
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
  print_kvm_stats_line(c);
  print_kernel_evidence(c, r.run);
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
    exit_code = report_run(params->run, r.run, r.record, r.violations(), [&] { print_pvclock_table(r); });
  });
}

}  // namespace gpc::scenarios
