#include "scenarios/xen_evtchn_scenario.hpp"

#include <atomic>
#include <exception>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "gpc_guest/abi.h"
#include "kvm/binary_stats.hpp"
#include "kvm/guest_vm.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "kvm/xen_hvm.hpp"
#include "scenarios/kvm_metrics.hpp"

namespace gpc::scenarios {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kSharedInfoGpa = GPC_GUEST_DATA_GPA;
constexpr uint64_t kVcpuInfoOffset = kXenEvtchnMaxRange;  // inside vCPU i's data area
constexpr uint64_t kRunstateOffset = kVcpuInfoOffset + 0x100;
static_assert(kVcpuInfoOffset + 0x1000 <= GPC_GUEST_DATA_STRIDE);
static_assert(GPC_XEN_COUNT <= GPC_UCALL_MAX_VALUES);

// One 64-port word of shared_info per vCPU, so no two guests ever clear bits of one word.
uint32_t port_of(int vcpu) { return 64u * static_cast<uint32_t>(vcpu + 1); }

// Steps that copy (mremap, mmap-fixed stage the page in userspace before the syscall) or
// discard (punch-hole) the page's contents can lose or bring back a pending bit by the
// host's own doing; only they announce steps in the marker. Every other type leaves the
// contents to the kernel, so any loss under it is a finding.
bool rewrites_contents(InvalidatorType t) {
  return t == InvalidatorType::mremap || t == InvalidatorType::mmap_fixed || t == InvalidatorType::punch_hole;
}

uint64_t load(uint64_t* word) { return std::atomic_ref<uint64_t>(*word).load(std::memory_order_seq_cst); }

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

XenEvtchnResult run_xen_evtchn(const XenEvtchnParams& params) {
  validate_xen_evtchn(params);
  const int n_inval = static_cast<int>(params.invalidators.size());
  const Placement placement = plan_layer_k(params.vcpus, n_inval, params.placement);
  kvm::Kvm kvm;
  const kvm::XenSupport xen = kvm::xen_support(kvm);
  if (!xen.usable) throw UnavailableError("run xen-evtchn: " + xen.reason);
  require_invalidators_run(params, "shared_info page", [&](InvalidatorType t) {
    return probe_xen_evtchn_invalidator(t, params.target, params.backing);
  });

  const std::unique_ptr<GuestRegion> region = make_data_region(params);
  kvm::GuestVm g(kvm, {"xen", params.vcpus, region->data()});
  auto* marker = g.vm().gpa_ptr<uint64_t>(GPC_GUEST_MARKER_GPA);
  *marker = 0;
  bool marked = false;
  for (InvalidatorType t : params.invalidators) marked |= params.target == Target::cache && rewrites_contents(t);

  kvm::configure_xen_vm(g.vm(), kSharedInfoGpa);
  for (int i = 0; i < params.vcpus; ++i) {
    gpc_guest_boot& b = g.boot(i);
    b.xen_shinfo_gpa = kSharedInfoGpa;
    b.xen_vcpu_info_gpa = kvm::GuestVm::data_gpa(i) + kVcpuInfoOffset;
    b.xen_runstate_gpa = kvm::GuestVm::data_gpa(i) + kRunstateOffset;
    b.xen_port = port_of(i);
    b.inval_marker_gpa = marked ? GPC_GUEST_MARKER_GPA : 0;
    kvm::configure_xen_vcpu(g.vcpu(i), static_cast<uint32_t>(i), b.xen_vcpu_info_gpa, b.xen_runstate_gpa);
  }
  // The host reads the pending bits through the region's own mapping (uhva): it always
  // shows the page mapped now, also while invalidators move it.
  const uintptr_t shinfo_hva = region->hva() + (kSharedInfoGpa - GPC_GUEST_DATA_GPA);
  auto* pending = reinterpret_cast<uint64_t*>(shinfo_hva + GPC_XEN_SHINFO_EVTCHN_PENDING);
  kvm::BinaryStats vm_stats(g.vm().stats_fd());

  InvalidatorRunner runner(make_data_slot_invalidators(params, *region, shinfo_hva, false,
                                                       [&](InvalidatorType t) {
                                                         return params.target == Target::cache && rewrites_contents(t)
                                                                    ? marker
                                                                    : nullptr;
                                                       }),
                           placement.invalidator_pus, RunnerOptions{params.rate_hz});

  std::vector<std::unique_ptr<kvm::VcpuThread>> threads;
  std::vector<kvm::VcpuThread*> raw;
  for (int i = 0; i < params.vcpus; ++i) {
    threads.push_back(std::make_unique<kvm::VcpuThread>(g.vcpu(i), placement.vcpu_pus[static_cast<size_t>(i)]));
    raw.push_back(threads.back().get());
  }

  // The sender: per round, each channel whose bit it reads clear gets one timed send. At
  // the end it stops the invalidators, settles the outstanding sends and asks the guests
  // for their final sweep. Only this thread touches the runner once it has started.
  EvtchnLedger ledger(static_cast<size_t>(params.vcpus));
  Histogram send_latency;
  double send_seconds = 0;
  int send_errno = 0;
  std::exception_ptr sender_error;
  std::atomic<bool> abandon{false};
  if (n_inval > 0) runner.start();
  std::thread sender([&] {
    const auto begin = Clock::now();
    try {
      const Deadline end(params.run.duration);
      while (!end.expired() && !stop_requested() && !abandon.load() && send_errno == 0) {
        bool any = false;
        for (int i = 0; i < params.vcpus && send_errno == 0; ++i) {
          const uint32_t port = port_of(i);
          const bool set = (load(pending + port / 64) >> (port % 64)) & 1;
          const uint64_t m = load(marker);
          if (!ledger.may_send(static_cast<size_t>(i), set, m)) continue;
          const auto t0 = Clock::now();
          const int err = kvm::xen_evtchn_send(g.vm(), port, static_cast<uint32_t>(i));
          const auto t1 = Clock::now();
          if (err != 0) {
            send_errno = err;
            break;
          }
          send_latency.record(static_cast<uint64_t>(std::chrono::duration_cast<Nanos>(t1 - t0).count()));
          ledger.sent(static_cast<size_t>(i), m);
          any = true;
        }
        if (!any) std::this_thread::sleep_for(params.idle_poll);
        else if (params.send_interval.count() > 0) std::this_thread::sleep_for(params.send_interval);
      }
    } catch (...) {
      sender_error = std::current_exception();
    }
    send_seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    try {
      runner.stop();  // rethrows an invalidator thread's error
    } catch (...) {
      if (!sender_error) sender_error = std::current_exception();
    }
    ledger.finish(load(marker));
    g.request_guest_stop();
  });

  kvm::SupervisorOptions o;
  o.time_limit = params.run.duration + std::max<Nanos>(std::chrono::seconds(5), params.run.duration / 2);
  o.request_guest_stop = [&g] { g.request_guest_stop(); };
  const kvm::StatsSnapshot vm_before = vm_stats.read();
  std::vector<kvm::VcpuRunResult> results;
  try {
    results = kvm::run_vcpus(raw, o);
  } catch (...) {
    abandon.store(true);
    sender.join();
    throw;
  }
  abandon.store(true);  // a vCPU that failed early ends the run
  sender.join();
  const auto vm_delta = kvm::stats_delta(vm_before, vm_stats.read());
  threads.clear();  // vCPU threads end here, before the VM
  kvm::throw_on_failure(results);
  if (sender_error) std::rethrow_exception(sender_error);
  if (send_errno != 0) throw SystemError("KVM_XEN_HVM_EVTCHN_SEND", send_errno);

  XenEvtchnResult out;
  out.placement = placement;
  out.invalidators = runner.stats();
  out.interrupted = stop_requested();
  out.judged = true;
  std::map<std::string, double> vcpu_stats;
  uint64_t upcalls = 0;
  for (const kvm::VcpuRunResult& r : results) {
    XenEvtchnVcpuResult v;
    v.vcpu = r.vcpu;
    v.pu = r.pu;
    v.port = port_of(r.vcpu);
    // REPORT after the final sweep; the last SYNC when Ctrl-C cut the run short.
    const kvm::Ucall* u = r.report ? &*r.report
                          : (r.last_ucall && r.last_ucall->kind == kvm::UcallKind::Sync) ? &*r.last_ucall
                                                                                          : nullptr;
    v.reported = r.report.has_value();
    out.judged = out.judged && v.reported;
    if (u && u->values.size() == GPC_XEN_COUNT) {
      ledger.delivered(static_cast<size_t>(r.vcpu), u->values[GPC_XEN_EVENTS], u->values[GPC_XEN_AT_RISK]);
      v.upcalls = u->values[GPC_XEN_UPCALLS];
      v.runstate_bad = u->values[GPC_XEN_RUNSTATE_BAD];
    }
    v.events = ledger.channel(static_cast<size_t>(r.vcpu));
    upcalls += v.upcalls;
    out.runstate_bad += v.runstate_bad;
    kvm::accumulate_stats(vcpu_stats, r.stats);
    out.vcpus.push_back(v);
  }
  out.total = ledger.total();
  out.event_violations = out.judged ? ledger.violations() : 0;
  out.send_latency = send_latency;
  out.send_seconds = send_seconds;

  BenchmarkRecord& rec = out.record;
  rec.name = xen_evtchn_record_name(params);
  rec.iterations = static_cast<int64_t>(out.total.delivered);
  rec.threads = params.vcpus;
  rec.real_time_ns = send_latency.mean();
  rec.label = out.interrupted ? "interrupted" : "";
  add_latency_counters(rec, send_latency);
  rec.histograms["send_latency"] = send_latency;
  const EvtchnCounts& t = out.total;
  rec.counters["ops_per_s"] = send_seconds > 0 ? static_cast<double>(t.sent) / send_seconds : 0;
  rec.counters["events_sent"] = static_cast<double>(t.sent);
  rec.counters["events_delivered"] = static_cast<double>(t.delivered);
  rec.counters["events_lost"] = static_cast<double>(t.lost());
  rec.counters["events_duplicated"] = static_cast<double>(t.duplicated());
  rec.counters["sends_at_risk"] = static_cast<double>(t.sends_at_risk);
  rec.counters["deliveries_at_risk"] = static_cast<double>(t.deliveries_at_risk);
  rec.counters["sends_deferred"] = static_cast<double>(t.deferred);
  rec.counters["events_judged"] = out.judged ? 1 : 0;
  rec.counters["upcalls"] = static_cast<double>(upcalls);
  rec.counters["runstate_bad"] = static_cast<double>(out.runstate_bad);
  rec.counters["violations"] = static_cast<double>(out.violations());
  if (n_inval > 0) runner.add_counters(rec);
  add_kvm_stat_counters(rec, vcpu_stats, vm_delta);

  nlohmann::json run_params = {{"vcpus", params.vcpus},
                               {"pus", placement.vcpu_pus},
                               {"pinning", pinning_json(placement)},
                               {"smt", params.placement.smt},
                               {"overcommit", params.placement.overcommit},
                               {"cache_gpa", kSharedInfoGpa},
                               {"send_interval_ns", params.send_interval.count()},
                               {"marked_invalidators", marked},
                               {"xen_hvm_flags", xen.flags},
                               {"interrupted", out.interrupted}};
  run_params.update(invalidation_json(params, *region));
  out.run = run_context("xen-evtchn", params.run, run_params);
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
  std::string stats;
  for (const std::string& name : key_kvm_stats())
    if (auto it = c.find("kvm_" + name); it != c.end()) stats += fmt::format("  {} {:.0f}", name, it->second);
  fmt::print("KVM stats (deltas):{}\n", stats);
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
    if (!params->run.quiet) print_xen_evtchn_table(r);
    write_run_result(params->run, r.run, {r.record});
    exit_code = r.violations() > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace gpc::scenarios
