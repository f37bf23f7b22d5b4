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
#include "scenarios/layer_k_evidence.hpp"
#include "scenarios/layer_k_vm.hpp"
#include "scenarios/scenario_record.hpp"

namespace gpc::scenarios {

PingpongResult run_pingpong(const PingpongParams& params) {
  if (params.vcpus < 1) throw UsageError("--vcpus must be at least 1");
  const Placement placement = plan_layer_k(params.vcpus, 0, params.placement);
  const std::vector<int>& pus = placement.vcpu_pus;

  // No rig: no guest memory, invalidators or observers; the exits are the whole run.
  kvm::Kvm kvm;
  kvm::GuestVm g(kvm, {"pingpong", params.vcpus, nullptr});
  kvm::BinaryStats vm_stats(g.vm().stats_fd());
  kvm::SupervisorOptions o;
  o.run.host_deadline = params.run.duration;  // the guest loops until the host stops it
  o.run.time_exits = true;
  o.time_limit = params.run.duration + std::chrono::seconds(5);
  o.watchdog = std::chrono::seconds(2);

  // No rig, so the run owns its kernel evidence directly; its destructor (also on an
  // exception or Ctrl-C) removes the tracefs instance.
  LayerKEvidence evidence(0, 0);
  const kvm::StatsSnapshot vm_before = vm_stats.read();
  evidence.start();
  const auto results = run_guests(g, pus, o);
  evidence.stop();
  const auto vm_delta = kvm::stats_delta(vm_before, vm_stats.read());
  kvm::throw_on_failure(results);

  PingpongResult out;
  out.pus = pus;
  out.interrupted = stop_requested();
  uint64_t total = 0;
  double seconds = 0, cpu_ns = 0;
  for (const auto& r : results) {
    out.exits.push_back(r.bench_exits);
    out.round_trip.merge(r.exit_ns);
    total += r.bench_exits;
    seconds = std::max(seconds, r.elapsed_ns / 1e9);
    cpu_ns += r.cpu_ns;
  }
  RecordCore core;
  core.name = fmt::format("pingpong/vcpus:{}", params.vcpus);
  core.threads = params.vcpus;
  core.iterations = total;
  core.ops_per_s = per(static_cast<double>(total), seconds);
  core.cpu_ns_per_op = per(cpu_ns, static_cast<double>(total));
  core.interrupted = out.interrupted;
  out.record = make_record(core, out.round_trip);
  add_kvm_stat_counters(out.record, summed_vcpu_stats(results), vm_delta);
  out.run = run_context("pingpong", params.run,
                        {{"vcpus", params.vcpus},
                         {"pus", pus},
                         {"pinning", pinning_json(placement)},
                         {"interrupted", out.interrupted}});
  evidence.add_to(out.record, out.run, 0);
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
      print_kernel_evidence(c, r.run);
    }
    write_run_result(params->run, r.run, {r.record});
    exit_code = kExitOk;
  });
}

}  // namespace gpc::scenarios
