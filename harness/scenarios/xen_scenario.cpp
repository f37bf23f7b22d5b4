#include "scenarios/xen_scenario.hpp"

#include <atomic>
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

// shared_info after the per-vCPU areas; vcpu_info and runstate inside each vCPU's area.
constexpr uint64_t kSharedInfoGpa = GPC_GUEST_DATA_GPA + GPC_GUEST_MAX_VCPUS * GPC_GUEST_DATA_STRIDE;
constexpr uint64_t kRunstateOffset = 0x100;
static_assert(kSharedInfoGpa + 0x1000 <= GPC_GUEST_DATA_GPA + GPC_GUEST_DATA_SIZE);

// One 64-port word of shared_info per vCPU, so guests never consume each other's bits.
uint32_t port_of(int vcpu) { return 64u * static_cast<uint32_t>(vcpu + 1); }

}  // namespace

XenResult run_xen(const XenParams& params) {
  kvm::Kvm kvm;
  const kvm::XenSupport xen = kvm::xen_support(kvm);
  if (!xen.usable) throw UnavailableError("run xen: " + xen.reason);
  const Placement placement = plan_layer_k(params.vcpus, 0, params.placement);
  const std::vector<int>& pus = placement.vcpu_pus;

  kvm::GuestVm g(kvm, {"xen", params.vcpus, nullptr});
  kvm::configure_xen_vm(g.vm(), kSharedInfoGpa);
  for (int i = 0; i < params.vcpus; ++i) {
    gpc_guest_boot& b = g.boot(i);
    b.xen_shinfo_gpa = kSharedInfoGpa;
    b.xen_vcpu_info_gpa = kvm::GuestVm::data_gpa(i);
    b.xen_runstate_gpa = kvm::GuestVm::data_gpa(i) + kRunstateOffset;
    kvm::configure_xen_vcpu(g.vcpu(i), static_cast<uint32_t>(i), b.xen_vcpu_info_gpa,
                            b.xen_runstate_gpa);
  }
  kvm::BinaryStats vm_stats(g.vm().stats_fd());
  std::vector<std::unique_ptr<kvm::VcpuThread>> threads;
  std::vector<kvm::VcpuThread*> raw;
  for (int i = 0; i < params.vcpus; ++i) {
    threads.push_back(std::make_unique<kvm::VcpuThread>(g.vcpu(i), pus[static_cast<size_t>(i)]));
    raw.push_back(threads.back().get());
  }

  // The host side sends for the duration, then asks the guests to report.
  std::atomic<uint64_t> sent{0};
  std::atomic<int> send_error{0};
  std::thread sender([&] {
    const Deadline end(params.run.duration);
    while (!end.expired()) {
      for (int i = 0; i < params.vcpus; ++i) {
        const int err = kvm::xen_evtchn_send(g.vm(), port_of(i), static_cast<uint32_t>(i));
        if (err == 0) sent.fetch_add(1, std::memory_order_relaxed);
        else send_error.store(err);
      }
      std::this_thread::sleep_for(params.send_interval);
    }
    g.request_guest_stop();
  });
  kvm::SupervisorOptions o;
  o.time_limit = params.run.duration + std::chrono::seconds(5);
  o.request_guest_stop = [&g] { g.request_guest_stop(); };
  const kvm::StatsSnapshot vm_before = vm_stats.read();
  std::vector<kvm::VcpuRunResult> results;
  try {
    results = kvm::run_vcpus(raw, o);
  } catch (...) {
    request_stop();
    sender.join();
    throw;
  }
  sender.join();
  const auto vm_delta = kvm::stats_delta(vm_before, vm_stats.read());
  threads.clear();
  kvm::throw_on_failure(results);
  if (send_error.load() != 0) throw SystemError("KVM_XEN_HVM_EVTCHN_SEND", send_error.load());

  XenResult out;
  out.sent = sent.load();
  std::map<std::string, double> vcpu_stats;
  for (const auto& r : results) {
    if (r.report && r.report->values.size() == GPC_XEN_COUNT) {
      out.received += r.report->values[GPC_XEN_EVENTS];
      out.violations += r.report->values[GPC_XEN_RUNSTATE_BAD];
    }
    kvm::accumulate_stats(vcpu_stats, r.stats);
  }
  // Sends to a port still pending coalesce (evtchn is a level bit), so fewer may arrive,
  // never more.
  if (out.received > out.sent) ++out.violations;
  BenchmarkRecord& rec = out.record;
  rec.name = fmt::format("xen/vcpus:{}", params.vcpus);
  rec.iterations = static_cast<int64_t>(out.received);
  rec.threads = params.vcpus;
  rec.counters["ops_per_s"] = static_cast<double>(out.received) / (params.run.duration.count() / 1e9);
  rec.counters["events_sent"] = static_cast<double>(out.sent);
  rec.counters["violations"] = static_cast<double>(out.violations);
  add_kvm_stat_counters(rec, vcpu_stats, vm_delta);
  out.run = run_context("xen", params.run,
                        {{"vcpus", params.vcpus}, {"pus", pus}, {"pinning", pinning_json(placement)}});
  return out;
}

void add_xen_scenario(CLI::App& run, int& exit_code) {
  auto params = std::make_shared<XenParams>();
  auto* cmd = run.add_subcommand(
      "xen", "Layer K, Xen HVM: event channels into shared_info/vcpu_info and runstate updates "
             "(needs KVM_CAP_XEN_HVM)");
  add_run_options(*cmd, params->run);
  add_placement_options(*cmd, params->placement);
  cmd->add_option("--vcpus", params->vcpus, "vCPUs, one pinned thread each (default 1)")
      ->check(CLI::Range(1, static_cast<int>(GPC_GUEST_MAX_VCPUS)));
  cmd->callback([params, &exit_code] {
    finalize_run_options(params->run);
    const XenResult r = run_xen(*params);
    if (!params->run.quiet)
      fmt::print("events sent {}  received {}  violations {}\n", r.sent, r.received, r.violations);
    write_run_result(params->run, r.run, {r.record});
    exit_code = r.violations > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace gpc::scenarios
