#include "scenarios/xen_evtchn_scenario.hpp"

#include <map>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "gpc_guest/abi.h"
#include "kvm/binary_stats.hpp"
#include "kvm/guest_vm.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "kvm/xen_hvm.hpp"
#include "scenarios/evtchn_sender.hpp"
#include "scenarios/kvm_metrics.hpp"
#include "scenarios/layer_k_vm.hpp"
#include "scenarios/layer_k_evidence.hpp"
#include "scenarios/measurement_phase.hpp"
#include "scenarios/rig.hpp"
#include "scenarios/scenario_record.hpp"

namespace gpc::scenarios {
namespace {

constexpr uint64_t kSharedInfoGpa = GPC_GUEST_DATA_GPA;
constexpr uint64_t kVcpuInfoOffset = kXenEvtchnMaxRange;  // inside vCPU i's data area
constexpr uint64_t kRunstateOffset = kVcpuInfoOffset + 0x100;
static_assert(kVcpuInfoOffset + 0x1000 <= GPC_GUEST_DATA_STRIDE);
static_assert(GPC_XEN_COUNT <= GPC_UCALL_MAX_VALUES);

// Steps that copy (mremap, mmap-fixed stage the page in userspace before the syscall) or
// discard (punch-hole) the page's contents can lose or bring back a pending bit by the
// host's own doing; only they announce steps in the marker. Every other type leaves the
// contents to the kernel, so any loss under it is a finding.
bool rewrites_contents(InvalidatorType t) {
  return t == InvalidatorType::mremap || t == InvalidatorType::mmap_fixed || t == InvalidatorType::punch_hole;
}

}  // namespace

void validate_xen_evtchn(const XenEvtchnParams& p) {
  if (p.vcpus < 1 || p.vcpus > static_cast<int>(GPC_GUEST_MAX_VCPUS))
    throw UsageError(fmt::format("--vcpus must be between 1 and {}", GPC_GUEST_MAX_VCPUS));
  validate_invalidation(p, kXenEvtchnMaxRange,
                        "from the shared_info page up to vCPU 0's vcpu_info, which a page-copying invalidator "
                        "must not reach");
  if (p.send_interval.count() < 0 || p.idle_poll.count() < 0)
    throw UsageError("--send-interval must be >= 0 (0 = send as soon as the handshake allows)");
}

std::string xen_evtchn_record_name(const XenEvtchnParams& p) {
  std::string name = fmt::format("xen-evtchn/vcpus:{}", p.vcpus) + invalidation_name_part(p);
  if (!p.invalidators.empty() && p.rate_hz != 0) name += fmt::format("/rate:{}", p.rate_hz);
  return name;
}

ProbeResult probe_xen_evtchn_invalidator(InvalidatorType type, Target target, BackingKind backing) {
  if (type == InvalidatorType::mprotect && target == Target::cache)
    return {false,
            "mprotect makes the shared_info page read-only: the guest's clear of a pending bit would fail KVM_RUN "
            "with EFAULT and KVM's refresh for EVTCHN_SEND needs it writable; use --target neighbour or unrelated"};
  return probe_data_slot(type, target, backing, false);
}

namespace {

// Whether any invalidator announces its steps in the marker (see rewrites_contents).
bool marks_steps(const XenEvtchnParams& p, InvalidatorType t) { return p.target == Target::cache && rewrites_contents(t); }

// The rig's subject: a Xen HVM VM with shared_info at the data slot's start and vCPU i's
// vcpu_info and runstate in its own data area.
LayerKVm& build_xen_vm(Rig& rig, const XenEvtchnParams& params, kvm::Kvm kvm, bool marked) {
  GuestRegion& region = rig.set_memory(make_data_region(params));
  LayerKVm& vm = rig.set_subject(std::make_unique<LayerKVm>(std::move(kvm), "xen", params.vcpus, region));
  kvm::configure_xen_vm(vm.vm(), kSharedInfoGpa);
  for (int i = 0; i < params.vcpus; ++i) {
    gpc_guest_boot& b = vm.guest().boot(i);
    b.xen_shinfo_gpa = kSharedInfoGpa;
    b.xen_vcpu_info_gpa = kvm::GuestVm::data_gpa(i) + kVcpuInfoOffset;
    b.xen_runstate_gpa = kvm::GuestVm::data_gpa(i) + kRunstateOffset;
    b.xen_port = evtchn_port_of(i);
    b.inval_marker_gpa = marked ? GPC_GUEST_MARKER_GPA : 0;
    kvm::configure_xen_vcpu(vm.guest().vcpu(i), static_cast<uint32_t>(i), b.xen_vcpu_info_gpa, b.xen_runstate_gpa);
  }
  return vm;
}

// One vCPU's result: what its guest reported, entered into the ledger.
XenEvtchnVcpuResult xen_vcpu(const kvm::VcpuRunResult& r, EvtchnLedger& ledger) {
  XenEvtchnVcpuResult v;
  v.vcpu = r.vcpu;
  v.pu = r.pu;
  v.port = evtchn_port_of(r.vcpu);
  v.reported = r.report.has_value();  // the final sweep; a SYNC only when Ctrl-C cut the run short
  if (const kvm::Ucall* u = final_counts(r); u && u->values.size() == GPC_XEN_COUNT) {
    ledger.delivered(static_cast<size_t>(r.vcpu), u->values[GPC_XEN_EVENTS], u->values[GPC_XEN_AT_RISK]);
    v.upcalls = u->values[GPC_XEN_UPCALLS];
    v.runstate_bad = u->values[GPC_XEN_RUNSTATE_BAD];
  }
  v.events = ledger.channel(static_cast<size_t>(r.vcpu));
  return v;
}

XenEvtchnResult xen_result(const std::vector<kvm::VcpuRunResult>& results, EvtchnLedger& ledger,
                           const EvtchnSender& sender) {
  XenEvtchnResult out;
  out.judged = true;
  for (const kvm::VcpuRunResult& r : results) {
    XenEvtchnVcpuResult v = xen_vcpu(r, ledger);
    out.judged = out.judged && v.reported;
    out.runstate_bad += v.runstate_bad;
    out.vcpus.push_back(v);
  }
  out.total = ledger.total();
  out.event_violations = out.judged ? ledger.violations() : 0;
  out.send_latency = sender.latency();
  out.send_seconds = sender.seconds();
  return out;
}

// The common record plus the handshake's counts, upcalls, runstate checks and KVM stats.
BenchmarkRecord xen_record(const XenEvtchnParams& params, const XenEvtchnResult& out, const Rig& rig,
                           const std::map<std::string, double>& vcpu_stats,
                           const std::map<std::string, double>& vm_delta) {
  const EvtchnCounts& t = out.total;
  RecordCore core;
  core.name = xen_evtchn_record_name(params);
  core.threads = params.vcpus;
  core.iterations = t.delivered;
  core.ops_per_s = per(static_cast<double>(t.sent), out.send_seconds);
  core.violations = out.violations();
  core.interrupted = out.interrupted;
  BenchmarkRecord rec = make_record(core, out.send_latency, "send_latency");
  uint64_t upcalls = 0;
  for (const XenEvtchnVcpuResult& v : out.vcpus) upcalls += v.upcalls;
  auto& c = rec.counters;
  c["events_sent"] = static_cast<double>(t.sent);
  c["events_delivered"] = static_cast<double>(t.delivered);
  c["events_lost"] = static_cast<double>(t.lost());
  c["events_duplicated"] = static_cast<double>(t.duplicated());
  c["sends_at_risk"] = static_cast<double>(t.sends_at_risk);
  c["deliveries_at_risk"] = static_cast<double>(t.deliveries_at_risk);
  c["sends_deferred"] = static_cast<double>(t.deferred);
  c["events_judged"] = out.judged ? 1 : 0;
  c["upcalls"] = static_cast<double>(upcalls);
  c["runstate_bad"] = static_cast<double>(out.runstate_bad);
  add_layer_k_counters(rec, rig, vcpu_stats, vm_delta);
  return rec;
}

}  // namespace

XenEvtchnResult run_xen_evtchn(const XenEvtchnParams& params) {
  validate_xen_evtchn(params);
  Rig rig(plan_layer_k(params.vcpus, static_cast<int>(params.invalidators.size()), params.placement));
  kvm::Kvm kvm;
  const kvm::XenSupport xen = kvm::xen_support(kvm);
  if (!xen.usable) throw UnavailableError("run xen-evtchn: " + xen.reason);
  require_invalidators_run(params, "shared_info page", [&](InvalidatorType t) {
    return probe_xen_evtchn_invalidator(t, params.target, params.backing);
  });
  bool marked = false;
  for (InvalidatorType t : params.invalidators) marked |= marks_steps(params, t);
  LayerKVm& vm = build_xen_vm(rig, params, std::move(kvm), marked);
  // The host reads the pending bits through the region's own mapping (uhva): it always
  // shows the page mapped now, also while invalidators move it.
  const uintptr_t shinfo_hva = rig.memory().hva() + (kSharedInfoGpa - GPC_GUEST_DATA_GPA);
  uint64_t* marker = vm.marker();
  LayerKEvidence& evidence =
      rig.add_observer(std::make_unique<LayerKEvidence>(shinfo_hva, params.invalidators.size()));
  rig.set_invalidators(make_data_slot_invalidators(params, rig.memory(), shinfo_hva, false,
                                                   [&](InvalidatorType t) {
                                                     return marks_steps(params, t) ? marker : nullptr;
                                                   }),
                       params.rate_hz, evidence.op_log());

  EvtchnLedger ledger(static_cast<size_t>(params.vcpus));
  const kvm::StatsSnapshot vm_before = vm.stats();
  MeasurementPhase phase(rig);
  EvtchnSender sender(vm.guest(), ledger, phase,
                      {params.vcpus, params.run.duration, params.send_interval, params.idle_poll,
                       reinterpret_cast<uint64_t*>(shinfo_hva + GPC_XEN_SHINFO_EVTCHN_PENDING), marker});
  const std::vector<kvm::VcpuRunResult> results =
      run_guests(vm.guest(), rig.placement().vcpu_pus, self_ending_guests(vm.guest(), params.run.duration));
  sender.finish();  // a vCPU that failed early ends the run; the sender stopped the invalidators
  phase.end();
  const auto vm_delta = kvm::stats_delta(vm_before, vm.stats());
  kvm::throw_on_failure(results);
  sender.rethrow_error();

  XenEvtchnResult out = xen_result(results, ledger, sender);
  out.placement = rig.placement();
  out.invalidators = rig.invalidators() ? rig.invalidators()->stats() : std::vector<InvalidatorStats>{};
  out.interrupted = phase.interrupted();
  out.record = xen_record(params, out, rig, summed_vcpu_stats(results), vm_delta);
  nlohmann::json run = layer_k_run_json(params.vcpus, out.placement, params.placement, kSharedInfoGpa, out.interrupted);
  run["send_interval_ns"] = params.send_interval.count();
  run["marked_invalidators"] = marked;
  run["xen_hvm_flags"] = xen.flags;
  run.update(invalidation_json(params, rig.memory()));
  out.run = run_context("xen-evtchn", params.run, run);
  evidence.add_to(out.record, out.run, 0);  // no pvclock updates to count writes against
  return out;
}

void print_xen_evtchn_table(const XenEvtchnResult& r) {
  fmt::print("pinning: {}\n", r.placement.describe());
  fmt::print("{:>5} {:>4} {:>5} {:>9} {:>10} {:>6} {:>6} {:>14} {:>19} {:>8} {:>9}\n", "vcpu", "pu", "port", "sent",
             "delivered", "lost", "dup", "sends_at_risk", "deliveries_at_risk", "upcalls", "runstate");
  for (const auto& v : r.vcpus)
    fmt::print("{:>5} {:>4} {:>5} {:>9} {:>10} {:>6} {:>6} {:>14} {:>19} {:>8} {:>9}\n", v.vcpu, v.pu, v.port,
               v.events.sent, v.events.delivered, v.events.lost(), v.events.duplicated(), v.events.sends_at_risk,
               v.events.deliveries_at_risk, v.upcalls, v.runstate_bad);
  const auto& c = r.record.counters;
  fmt::print("sends/s {:.0f}  send latency p50 {}  p99 {}  max {}  violations {}{}\n", c.at("ops_per_s"),
             format_ns(c.at("p50_ns")), format_ns(c.at("p99_ns")), format_ns(c.at("max_ns")), r.violations(),
             r.judged ? "" : "  (lost/duplicated not judged: a vCPU did not make its final sweep)");
  print_invalidator_table(r.invalidators, r.placement.invalidator_pus);
  print_kvm_stats_line(c);
  print_kernel_evidence(c, r.run);
  fmt::print("send latency = steady clock around one KVM_XEN_HVM_EVTCHN_SEND; lost/dup beyond the at-risk counts "
             "are violations\n");
}

void add_xen_evtchn_scenario(CLI::App& run, int& exit_code) {
  auto params = std::make_shared<XenEvtchnParams>();
  auto flags = std::make_shared<InvalidationFlags>();
  flags->backing = backing_name(kXenEvtchnDefaultBacking);
  auto send_interval = std::make_shared<std::string>("0ns");
  auto* cmd = run.add_subcommand(
      "xen-evtchn",
      "Layer K, Xen HVM: the host sends event channels (KVM_XEN_HVM_EVTCHN_SEND) through KVM's shared_info "
      "gfn_to_pfn_cache while optional host invalidators change the memory behind it; every send is delivered "
      "once or counted lost (needs KVM_CAP_XEN_HVM)");
  cmd->alias("xen");
  add_run_options(*cmd, params->run);
  add_placement_options(*cmd, params->placement);
  cmd->add_option("--vcpus", params->vcpus, "vCPUs, one pinned thread each (default 1)")
      ->check(CLI::Range(1, static_cast<int>(GPC_GUEST_MAX_VCPUS)));
  add_invalidation_flags(*cmd, *flags, "the shared_info page");
  cmd->add_option("--range-size", params->range_size,
                  fmt::format("Bytes per invalidator operation (default 4096, at most {})", kXenEvtchnMaxRange));
  cmd->add_option("--send-interval", *send_interval,
                  "Pause after each round that sent (default 0: send as soon as the guest consumed)");
  cmd->callback([params, flags, send_interval, &exit_code] {
    finalize_run_options(params->run);
    apply_invalidation_flags(*flags, *params);
    params->send_interval = parse_duration(*send_interval, "--send-interval");
    const XenEvtchnResult r = run_xen_evtchn(*params);
    exit_code = report_run(params->run, r.run, r.record, r.violations(), [&] { print_xen_evtchn_table(r); });
  });
}

}  // namespace gpc::scenarios
