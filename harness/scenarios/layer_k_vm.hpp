// What the layer K scenarios (pvclock, xen-evtchn, pingpong) share besides invalidation
// (layer_k_invalidation.hpp): the VM as a rig's subject, running its vCPUs on their
// planned PUs, reading what each guest reported, and the context fields they all record.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "kvm/binary_stats.hpp"
#include "kvm/guest_vm.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "memory/region.hpp"
#include "results/result_file.hpp"
#include "scenarios/placement_plan.hpp"
#include "scenarios/rig.hpp"

namespace gpc::scenarios {

// The subject of a layer K rig: the KVM handle, the VM running `guest` whose data slot is
// the rig's memory (the invalidators change it behind the kernel's pfn caches), the step
// marker in low memory where invalidators announce their steps (cleared; out of their
// reach), and the VM's binary stats.
class LayerKVm : public RigSubject {
 public:
  LayerKVm(kvm::Kvm kvm, const std::string& guest, int vcpus, GuestRegion& data);

  kvm::GuestVm& guest() { return guest_; }
  kvm::Vm& vm() { return guest_.vm(); }
  uint64_t* marker() const { return marker_; }
  kvm::StatsSnapshot stats() const { return stats_.read(); }

 private:
  kvm::Kvm kvm_;
  kvm::GuestVm guest_;
  uint64_t* marker_;
  kvm::BinaryStats stats_;
};

// Bounds for guests that end themselves at the run's duration (on their own clock): the
// time limit only catches runs that do not, with room for a machine busy with other work
// (duration + max(5 s, duration / 2)); reaching it asks the guests to stop and report.
kvm::SupervisorOptions self_ending_guests(kvm::GuestVm& guest, Nanos duration);

// Runs every vCPU of `guest` on a thread pinned to pus[i] until the supervisor has ended
// them all (kvm/vcpu_supervisor.hpp); the threads are joined on return, before the VM
// goes. A failed vCPU does not throw here: call kvm::throw_on_failure() once the rest of
// the run has stopped.
std::vector<kvm::VcpuRunResult> run_guests(kvm::GuestVm& guest, const std::vector<int>& pus,
                                           const kvm::SupervisorOptions& options);

// The vCPU binary-stat deltas summed over all vCPUs.
std::map<std::string, double> summed_vcpu_stats(const std::vector<kvm::VcpuRunResult>& results);

// The guest's counts: its REPORT at the end of a complete run, its last SYNC when Ctrl-C
// cut the run short; nullptr when it sent neither.
const kvm::Ucall* final_counts(const kvm::VcpuRunResult& result);

// The counters every layer K record has beside its own: the rig's invalidators' (when it
// has any) and the KVM binary-stat deltas (vCPU stats summed, VM stats).
void add_layer_k_counters(BenchmarkRecord& record, const Rig& rig, const std::map<std::string, double>& vcpu_stats,
                          const std::map<std::string, double>& vm_stats);

// context["run"] fields of every layer K scenario with a data slot: vcpus, pus, pinning,
// smt, overcommit, cache_gpa (the page the `cache` target hits), interrupted.
nlohmann::json layer_k_run_json(int vcpus, const Placement& placement, const PlacementOptions& options,
                                uint64_t cache_gpa, bool interrupted);

}  // namespace gpc::scenarios
