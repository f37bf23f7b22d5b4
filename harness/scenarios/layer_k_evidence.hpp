// The kernel's own account of a layer-K run (docs/kernel-evidence.md), owned by the run:
// a KernelEvidence session (a run-owned tracefs instance with kvm_unmap_hva_range,
// kvm_pvclock_update and kvm_exit; a kprobe on the pfn cache refresh where the kernel has
// the kprobe PMU) and the log the invalidator runner stamps its operations into, so each
// notifier event is matched to the operation that caused it.
//
// As one of the rig's observers it starts before the invalidators and the vCPUs and stops
// after them; the rig destroys it (removing the tracefs instance) on every exit path,
// Ctrl-C included. Nothing here fails a run: what cannot be traced leaves its counters
// out and its reason in context.run.kernel_evidence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "results/result_file.hpp"
#include "scenarios/observer.hpp"
#include "trace/host_ops.hpp"
#include "trace/kernel_evidence.hpp"

namespace gpc::scenarios {

class LayerKEvidence final : public Observer {
 public:
  // `cache_hva`: the page the `cache` target hits (0: none, e.g. pingpong); `invalidators`:
  // how many the rig runs (one op-log slot each; 0: no log).
  LayerKEvidence(uint64_t cache_hva, size_t invalidators);

  // For Rig::set_invalidators; nullptr without invalidators.
  trace::HostOpLog* op_log() const { return op_log_.get(); }

  void start() override { evidence_.start(); }
  void stop() override { evidence_.stop(); }

  // After the measurement phase ended: the ktrace_* counters into `record`,
  // context.run.kernel_evidence into `run`. `guest_updates`: the guest-observed pvclock
  // updates (0 where the scenario has none).
  void add_to(BenchmarkRecord& record, nlohmann::json& run, uint64_t guest_updates);

 private:
  trace::KernelEvidence evidence_;
  std::unique_ptr<trace::HostOpLog> op_log_;
};

// The session's options for a layer-K run: GPC_KERNEL_EVIDENCE=off turns it off (the run
// then records why), for an A/B of the tracing's own cost.
trace::EvidenceOptions layer_k_evidence_options(uint64_t cache_hva);

// One or two lines for a run's table: what the kernel's trace counted, or why nothing was
// traced.
void print_kernel_evidence(const std::map<std::string, double>& counters, const nlohmann::json& run);

}  // namespace gpc::scenarios
