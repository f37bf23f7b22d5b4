// The kernel's own account of a layer-K run, as one session the run owns:
//
//   KernelEvidence ev(options);   // prepare: probe what works here, each with a reason
//   ev.start();                   // just before the measurement phase
//   ...                           // vCPUs and invalidators run
//   ev.stop();                    // right after it (also on Ctrl-C: the destructor cleans up)
//   ev.set_host_ops(log.ops());   // optional: the invalidators' op stamps (host_ops.hpp)
//   ev.add_counters(record, run_context, {updates, inval_ops});
//
// Tracepoints (a run-owned tracefs instance, filtered to the run's process):
// kvm:kvm_unmap_hva_range, kvm:kvm_pvclock_update, kvm:kvm_exit. A kprobe pair on the pfn
// cache refresh where the kprobe PMU exists. Nothing here ever fails a run: what cannot be
// traced is left out of the record and its reason goes into context.run.kernel_evidence.
// Counter names and meanings: docs/kernel-evidence.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trace/evidence_counters.hpp"
#include "trace/host_ops.hpp"

namespace gpc {
struct BenchmarkRecord;
}

namespace gpc::trace {

class TracefsRoot;
class TraceInstance;
class TracepointReader;
class ProbeReader;

struct EvidenceOptions {
  pid_t process = 0;         // whose events count; 0 = this process
  uint64_t cache_hva = 0;    // the cache page (0: unknown), to count invalidations that hit it
  uint64_t cache_len = 4096;
  bool tracepoints = true;
  bool refresh_probe = true;
  bool allow_private_mount = true;  // tracefs_root.hpp
  std::string off_reason;           // non-empty: trace nothing, record this as the reason
};

// One facility of the session: "tracefs", "kvm:kvm_exit", "kprobe:__kvm_gpc_refresh".
struct Facility {
  std::string name;
  bool available = false;
  std::string reason;  // why not; or how it runs ("existing mount at /sys/kernel/tracing")
};

struct EvidenceInputs {
  uint64_t guest_updates = 0;  // guest-observed pvclock updates (the record's iterations)
  uint64_t host_ops = 0;       // invalidator operations (inval_ops), when no op stamps are given
};

class KernelEvidence {
 public:
  explicit KernelEvidence(EvidenceOptions options);  // never throws for an unusable machine
  ~KernelEvidence();
  KernelEvidence(const KernelEvidence&) = delete;
  KernelEvidence& operator=(const KernelEvidence&) = delete;

  const std::vector<Facility>& facilities() const { return facilities_; }
  bool tracing() const { return reader_ != nullptr; }
  bool probing() const { return probe_ != nullptr; }

  void start();
  void stop();
  void set_host_ops(std::vector<HostOp> ops) { host_ops_ = std::move(ops); }

  // ktrace_* counters and histograms for what worked, and run_context["kernel_evidence"]
  // with every facility's state and reason. Call after stop().
  void add_counters(BenchmarkRecord& record, nlohmann::json& run_context, const EvidenceInputs& inputs) const;

 private:
  void prepare_tracepoints();
  void prepare_probe();
  void add_tracepoint_counters(BenchmarkRecord& record, nlohmann::json& ctx, const EvidenceInputs& in) const;
  void add_probe_counters(BenchmarkRecord& record) const;

  EvidenceOptions options_;
  std::vector<Facility> facilities_;
  std::unique_ptr<TracefsRoot> root_;
  std::unique_ptr<TraceInstance> instance_;
  std::unique_ptr<TracepointReader> reader_;
  std::unique_ptr<ProbeReader> probe_;
  std::vector<std::string> events_on_;  // "kvm:kvm_exit", ... enabled in the instance
  std::vector<HostOp> host_ops_;
  uint64_t trace_lost_ = 0;
  bool started_ = false;

  // Filled by the reader's drain thread; read after stop() (the join orders them).
  std::vector<UnmapEvent> unmaps_;  // the first kMaxUnmapsKept, for matching
  uint64_t unmap_total_ = 0;
  uint64_t unmaps_dropped_ = 0;
  uint64_t pvclock_writes_ = 0;
  std::map<std::string, uint64_t> exits_;  // by reason name
  std::map<uint64_t, std::string> reason_names_;  // (isa << 32 | exit_reason) -> name
};

}  // namespace gpc::trace
