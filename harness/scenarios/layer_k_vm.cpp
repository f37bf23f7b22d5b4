#include "scenarios/layer_k_vm.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "gpc_guest/abi.h"
#include "scenarios/kvm_metrics.hpp"
#include "scenarios/scenario_record.hpp"

namespace gpc::scenarios {

LayerKVm::LayerKVm(kvm::Kvm kvm, const std::string& guest, int vcpus, GuestRegion& data)
    : kvm_(std::move(kvm)),
      guest_(kvm_, {guest, vcpus, data.data()}),
      marker_(guest_.vm().gpa_ptr<uint64_t>(GPC_GUEST_MARKER_GPA)),
      stats_(guest_.vm().stats_fd()) {
  *marker_ = 0;
}

kvm::SupervisorOptions self_ending_guests(kvm::GuestVm& guest, Nanos duration) {
  kvm::SupervisorOptions o;
  o.time_limit = duration + std::max<Nanos>(std::chrono::seconds(5), duration / 2);
  o.request_guest_stop = [&guest] { guest.request_guest_stop(); };
  return o;
}

std::vector<kvm::VcpuRunResult> run_guests(kvm::GuestVm& guest, const std::vector<int>& pus,
                                           const kvm::SupervisorOptions& options) {
  std::vector<std::unique_ptr<kvm::VcpuThread>> threads;
  std::vector<kvm::VcpuThread*> raw;
  for (int i = 0; i < guest.vcpu_count(); ++i) {
    threads.push_back(std::make_unique<kvm::VcpuThread>(guest.vcpu(i), pus.at(static_cast<size_t>(i))));
    raw.push_back(threads.back().get());
  }
  return kvm::run_vcpus(raw, options);
}

std::map<std::string, double> summed_vcpu_stats(const std::vector<kvm::VcpuRunResult>& results) {
  std::map<std::string, double> sum;
  for (const kvm::VcpuRunResult& r : results) kvm::accumulate_stats(sum, r.stats);
  return sum;
}

const kvm::Ucall* final_counts(const kvm::VcpuRunResult& r) {
  if (r.report) return &*r.report;
  if (r.last_ucall && r.last_ucall->kind == kvm::UcallKind::Sync) return &*r.last_ucall;
  return nullptr;
}

void add_layer_k_counters(BenchmarkRecord& record, const Rig& rig, const std::map<std::string, double>& vcpu_stats,
                          const std::map<std::string, double>& vm_stats) {
  add_invalidator_counters(record, rig);
  add_kvm_stat_counters(record, vcpu_stats, vm_stats);
}

nlohmann::json layer_k_run_json(int vcpus, const Placement& placement, const PlacementOptions& options,
                                uint64_t cache_gpa, bool interrupted) {
  return {{"vcpus", vcpus},
          {"pus", placement.vcpu_pus},
          {"pinning", pinning_json(placement)},
          {"smt", options.smt},
          {"overcommit", options.overcommit},
          {"cache_gpa", cache_gpa},
          {"interrupted", interrupted}};
}

}  // namespace gpc::scenarios
