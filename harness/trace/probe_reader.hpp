// Count and latency distribution of one function, from an entry and a return probe
// (kprobe for a kernel function, uprobe for a user one: the same perf interface). Both are
// opened on every CPU for every task (pid -1), sample every hit with its thread and
// CLOCK_MONOTONIC time into per-CPU ring buffers that a background thread drains; hits of
// other processes are dropped by pid. At stop() the hits are paired per thread
// (call_pairing.hpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "common/unique_fd.hpp"
#include "trace/call_pairing.hpp"
#include "trace/drain_thread.hpp"
#include "trace/perf_ring.hpp"
#include "trace/probe_pmu.hpp"

namespace gpc::trace {

struct ProbeSpec {
  ProbeKind kind = ProbeKind::kprobe;
  std::string function;  // kprobe: the kernel symbol; uprobe: the path of the ELF file
  uint64_t offset = 0;   // kprobe: offset into the symbol (0); uprobe: the function's file offset
  std::string label;     // how results name it ("__kvm_gpc_refresh")
};

// The uprobe spec of `function`, a function of this process (its executable mapping in
// /proc/self/maps gives the file and the file offset). Throws UnavailableError when the
// address is in no file-backed executable mapping.
ProbeSpec uprobe_of(const void* function, const std::string& label);

class ProbeReader {
 public:
  // Opens the probes, disabled. nullptr and `reason` when this machine cannot: no such
  // PMU, no permission, unknown symbol (the reason names which and the fix).
  // `process` > 0: keep only that process's hits; 0: every process.
  static std::unique_ptr<ProbeReader> open(const ProbeSpec& spec, pid_t process, std::string& reason);
  ~ProbeReader();
  ProbeReader(const ProbeReader&) = delete;
  ProbeReader& operator=(const ProbeReader&) = delete;

  void start(Nanos drain_interval = std::chrono::milliseconds(10));  // enables, starts draining
  void stop();  // disables, drains the rest, joins; rethrows a drain error

  // After stop(): calls paired per thread.
  CallStats result() const;
  // Hits the kernel dropped (ring buffer full) or that exceeded the in-memory bound.
  uint64_t lost() const { return lost_; }
  const ProbeSpec& spec() const { return spec_; }

 private:
  struct CpuProbe {
    UniqueFd fd;
    std::unique_ptr<PerfRing> ring;
    bool is_return = false;
  };
  explicit ProbeReader(ProbeSpec spec) : spec_(std::move(spec)) {}
  void drain_all();

  ProbeSpec spec_;
  pid_t process_ = 0;
  std::vector<CpuProbe> probes_;
  std::vector<ProbeHit> hits_;  // written by the drain thread only
  uint64_t lost_ = 0;
  DrainThread drainer_;
};

}  // namespace gpc::trace
