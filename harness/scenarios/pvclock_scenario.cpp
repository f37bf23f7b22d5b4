#include "scenarios/pvclock_scenario.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "gpc_guest/abi.h"
#include "kvm/binary_stats.hpp"
#include "kvm/guest_vm.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "scenarios/kvm_metrics.hpp"

namespace gpc::scenarios {
namespace {

// Inside each vCPU's data area: the pvclock page, then its latency histogram.
constexpr uint64_t kPvclockOffset = 0;
constexpr uint64_t kHistogramOffset = 0x1000;
static_assert(kHistogramOffset + GPC_LL_BUCKETS * sizeof(uint64_t) <= GPC_GUEST_DATA_STRIDE);

std::string record_name(const PvclockParams& p) { return fmt::format("pvclock/vcpus:{}", p.vcpus); }

}  // namespace

uint64_t PvclockResult::violations() const {
  uint64_t v = clock_outside;
  for (const auto& c : vcpus) v += c.violations();
  return v;
}

PvclockResult run_pvclock(const PvclockParams& params) {
  if (params.vcpus < 1) throw UsageError("--vcpus must be at least 1");
  std::vector<int> pus = params.pus.empty() ? round_robin_pus(params.vcpus) : params.pus;
  if (static_cast<int>(pus.size()) != params.vcpus)
    throw UsageError(fmt::format("{} PUs given for {} vCPUs", pus.size(), params.vcpus));

  kvm::Kvm kvm;
  kvm::GuestVm g(kvm, {"pvclock", params.vcpus, nullptr});
  for (int i = 0; i < params.vcpus; ++i) {
    gpc_guest_boot& b = g.boot(i);
    b.duration_ns = static_cast<uint64_t>(params.run.duration.count());
    b.sync_interval_ns = static_cast<uint64_t>(params.sync_interval.count());
    b.pvclock_gpa = kvm::GuestVm::data_gpa(i) + kPvclockOffset;
    b.hist_gpa = kvm::GuestVm::data_gpa(i) + kHistogramOffset;
  }
  kvm::BinaryStats vm_stats(g.vm().stats_fd());

  std::vector<std::unique_ptr<kvm::VcpuThread>> threads;
  std::vector<kvm::VcpuThread*> raw;
  for (int i = 0; i < params.vcpus; ++i) {
    threads.push_back(std::make_unique<kvm::VcpuThread>(g.vcpu(i), pus[static_cast<size_t>(i)]));
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
  const std::vector<kvm::VcpuRunResult> results = kvm::run_vcpus(raw, o);
  const uint64_t clock_after = g.vm().get_clock().clock;
  const auto vm_delta = kvm::stats_delta(vm_before, vm_stats.read());
  threads.clear();  // vCPU threads end here, before the VM
  kvm::throw_on_failure(results);

  PvclockResult out;
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

  uint64_t updates = 0, retries = 0, unstable = 0, max_ns = 0;
  for (const auto& v : out.vcpus) {
    updates += v.updates;
    retries += v.retries;
    unstable += v.unstable_backwards;
    max_ns = std::max(max_ns, v.max_ns);
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
  rec.counters["version_retries"] = static_cast<double>(retries);
  rec.counters["unstable_backward_steps"] = static_cast<double>(unstable);
  add_kvm_stat_counters(rec, vcpu_stats, vm_delta);
  rec.histograms["latency"] = all;

  nlohmann::json pus_json = nlohmann::json::array();
  for (int pu : pus) pus_json.push_back(pu);
  out.run = run_context("pvclock", params.run,
                        {{"vcpus", params.vcpus},
                         {"pus", pus_json},
                         {"sync_interval_ns", params.sync_interval.count()},
                         {"interrupted", out.interrupted}});
  return out;
}

void print_pvclock_table(const PvclockResult& r) {
  fmt::print("{:>5} {:>4} {:>10} {:>11} {:>9} {:>9} {:>9} {:>10} {:>8}\n", "vcpu", "pu", "updates",
             "updates/s", "p50", "p99", "max", "violations", "retries");
  for (const auto& v : r.vcpus)
    fmt::print("{:>5} {:>4} {:>10} {:>11.0f} {:>9} {:>9} {:>9} {:>10} {:>8}\n", v.vcpu, v.pu,
               v.updates, v.seconds > 0 ? static_cast<double>(v.updates) / v.seconds : 0.0,
               format_ns(static_cast<double>(v.latency.quantile(0.5))),
               format_ns(static_cast<double>(v.latency.quantile(0.99))),
               format_ns(static_cast<double>(v.max_ns)), v.violations(), v.retries);
  const auto& c = r.record.counters;
  fmt::print("{:>5} {:>4} {:>10} {:>11.0f} {:>9} {:>9} {:>9} {:>10}\n", "all", "", r.record.iterations,
             c.at("ops_per_s"), format_ns(c.at("p50_ns")), format_ns(c.at("p99_ns")),
             format_ns(c.at("max_ns")), r.violations());
  if (r.clock_outside)
    fmt::print("violation: {} vCPU(s) reported a time outside KVM_GET_CLOCK before/after\n",
               r.clock_outside);
  std::string stats;
  for (const std::string& name : key_kvm_stats())
    if (auto it = c.find("kvm_" + name); it != c.end())
      stats += fmt::format("  {} {:.0f}", name, it->second);
  fmt::print("KVM stats (deltas):{}\n", stats);
  fmt::print("latency = guest TSC around one MSR_KVM_SYSTEM_TIME_NEW write (the kvmclock update)\n");
}

void add_pvclock_scenario(CLI::App& run, int& exit_code) {
  auto params = std::make_shared<PvclockParams>();
  auto* cmd = run.add_subcommand(
      "pvclock",
      "Layer K: vCPUs rewrite MSR_KVM_SYSTEM_TIME_NEW so KVM refreshes their pvclock pages "
      "through the gfn_to_pfn_cache; the guests check every page they read back");
  add_run_options(*cmd, params->run);
  cmd->add_option("--vcpus", params->vcpus, "vCPUs, one pinned thread each (default 1)")
      ->check(CLI::Range(1, static_cast<int>(GPC_GUEST_MAX_VCPUS)));
  cmd->callback([params, &exit_code] {
    finalize_run_options(params->run);
    const PvclockResult r = run_pvclock(*params);
    if (!params->run.quiet) print_pvclock_table(r);
    write_run_result(params->run, r.run, {r.record});
    exit_code = r.violations() > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace gpc::scenarios
