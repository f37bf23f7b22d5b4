#include "scenarios/pingpong_scenario.hpp"

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

PingpongResult run_pingpong(const PingpongParams& params) {
  if (params.vcpus < 1) throw UsageError("--vcpus must be at least 1");
  const Placement placement = plan_layer_k(params.vcpus, 0, params.placement);
  const std::vector<int>& pus = placement.vcpu_pus;

  kvm::Kvm kvm;
  kvm::GuestVm g(kvm, {"pingpong", params.vcpus, nullptr});
  kvm::BinaryStats vm_stats(g.vm().stats_fd());
  std::vector<std::unique_ptr<kvm::VcpuThread>> threads;
  std::vector<kvm::VcpuThread*> raw;
  for (int i = 0; i < params.vcpus; ++i) {
    threads.push_back(std::make_unique<kvm::VcpuThread>(g.vcpu(i), pus[static_cast<size_t>(i)]));
    raw.push_back(threads.back().get());
  }
  kvm::SupervisorOptions o;
  o.run.host_deadline = params.run.duration;  // the guest loops until the host stops it
  o.run.time_exits = true;
  o.time_limit = params.run.duration + std::chrono::seconds(5);
  o.watchdog = std::chrono::seconds(2);

  const kvm::StatsSnapshot vm_before = vm_stats.read();
  const auto results = kvm::run_vcpus(raw, o);
  const auto vm_delta = kvm::stats_delta(vm_before, vm_stats.read());
  threads.clear();
  kvm::throw_on_failure(results);

  PingpongResult out;
  out.pus = pus;
  out.interrupted = stop_requested();
  std::map<std::string, double> vcpu_stats;
  uint64_t total = 0;
  double seconds = 0, cpu_ns = 0;
  for (const auto& r : results) {
    out.exits.push_back(r.bench_exits);
    out.round_trip.merge(r.exit_ns);
    total += r.bench_exits;
    seconds = std::max(seconds, r.elapsed_ns / 1e9);
    cpu_ns += r.cpu_ns;
    kvm::accumulate_stats(vcpu_stats, r.stats);
  }
  BenchmarkRecord& rec = out.record;
  rec.name = fmt::format("pingpong/vcpus:{}", params.vcpus);
  rec.iterations = static_cast<int64_t>(total);
  rec.threads = params.vcpus;
  rec.real_time_ns = out.round_trip.mean();
  rec.cpu_time_ns = total ? cpu_ns / static_cast<double>(total) : 0;
  rec.label = out.interrupted ? "interrupted" : "";
  add_latency_counters(rec, out.round_trip);
  rec.counters["ops_per_s"] = seconds > 0 ? static_cast<double>(total) / seconds : 0;
  rec.counters["cpu_ns_per_op"] = rec.cpu_time_ns;
  rec.counters["violations"] = 0;
  add_kvm_stat_counters(rec, vcpu_stats, vm_delta);
  rec.histograms["latency"] = out.round_trip;
  out.run = run_context("pingpong", params.run,
                        {{"vcpus", params.vcpus},
                         {"pus", pus},
                         {"pinning", pinning_json(placement)},
                         {"interrupted", out.interrupted}});
  return out;
}

void add_pingpong_scenario(CLI::App& run, int& exit_code) {
  auto params = std::make_shared<PingpongParams>();
  auto* cmd = run.add_subcommand(
      "pingpong", "Exit round-trip floor: guests OUT to a port in a loop, the host times each KVM_RUN");
  add_run_options(*cmd, params->run);
  add_placement_options(*cmd, params->placement);
  cmd->add_option("--vcpus", params->vcpus, "vCPUs, one pinned thread each (default 1)")
      ->check(CLI::Range(1, static_cast<int>(GPC_GUEST_MAX_VCPUS)));
  cmd->callback([params, &exit_code] {
    finalize_run_options(params->run);
    const PingpongResult r = run_pingpong(*params);
    if (!params->run.quiet) {
      fmt::print("pinning: {}\n", r.run["pinning"]["describe"].get<std::string>());
      fmt::print("{:>5} {:>4} {:>10} {:>10}\n", "vcpu", "pu", "exits", "exits/s");
      const double s = params->run.duration.count() / 1e9;
      for (size_t i = 0; i < r.exits.size(); ++i)
        fmt::print("{:>5} {:>4} {:>10} {:>10.0f}\n", i, r.pus[i], r.exits[i], r.exits[i] / s);
      const auto& c = r.record.counters;
      fmt::print("round trip per KVM_RUN (OUT exit to userspace and back): p50 {}  p99 {}  max {}  "
                 "mean {}\n",
                 format_ns(c.at("p50_ns")), format_ns(c.at("p99_ns")), format_ns(c.at("max_ns")),
                 format_ns(c.at("mean_ns")));
    }
    write_run_result(params->run, r.run, {r.record});
    exit_code = kExitOk;
  });
}

}  // namespace gpc::scenarios
