// Each vCPU runs on its own thread, pinned to one OS PU. Other threads reach it only
// through this handle: start() a run (command in), wait()/take_result() (result out),
// progress() for watchdogs, kick() to get it out of KVM_RUN at once.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/histogram.hpp"
#include "kvm/binary_stats.hpp"
#include "kvm/ucall.hpp"
#include "kvm/vcpu.hpp"

namespace gpc::kvm {

enum class VcpuOutcome {
  Done,            // the guest sent DONE
  HostDeadline,    // the host's deadline for this run passed (guests that never finish)
  Stopped,         // kicked, or Ctrl-C/SIGTERM (gpc::stop_requested())
  Hung,            // the watchdog kicked it: no ucall for too long
  GuestAssert,     // the guest sent ASSERT (see `assertion`)
  Shutdown,        // triple fault
  UnexpectedExit,  // an exit the run loop does not handle (message says which)
  VmDead,          // KVM killed the VM
  Error,           // an ioctl or protocol error (message)
};
const char* to_string(VcpuOutcome outcome);

struct VcpuRunOptions {
  // 0 = none. Checked at every exit; for guests that loop until told (pingpong).
  std::chrono::nanoseconds host_deadline{0};
  // Record the wall time of every KVM_RUN (exit round trip) in `exit_ns`.
  bool time_exits = false;
};

struct VcpuRunResult {
  int vcpu = -1;
  int pu = -1;  // where the thread ran (verified at pinning), -1 unpinned
  VcpuOutcome outcome = VcpuOutcome::Error;
  std::string message;
  std::optional<Ucall> last_ucall;
  std::optional<Ucall> report;
  std::optional<Ucall> assertion;
  uint64_t ucalls = 0;
  uint64_t bench_exits = 0;  // OUTs to GPC_BENCH_PORT
  uint64_t idle_exits = 0;   // OUTs to GPC_IDLE_PORT (the thread slept as asked)
  uint64_t runs = 0;         // KVM_RUN calls that returned an exit
  Histogram exit_ns;         // filled when time_exits
  std::map<std::string, double> stats;  // vCPU binary-stat deltas over the run
  double elapsed_ns = 0;
  double cpu_ns = 0;  // CPU time of the vCPU thread during the run (guest + KVM + harness)
  bool ok() const {
    return outcome == VcpuOutcome::Done || outcome == VcpuOutcome::HostDeadline ||
           outcome == VcpuOutcome::Stopped;
  }
};

struct VcpuProgress {
  bool running = false;
  uint64_t events = 0;  // ucalls + bench exits: anything that proves the guest advances
  std::chrono::steady_clock::time_point last_event_at;
  std::optional<Ucall> last_ucall;
};

class VcpuThread {
 public:
  // Starts the thread and pins it (os_pu -1: unpinned). Throws what pinning threw. The
  // Vcpu (and its VM) must outlive this object.
  VcpuThread(Vcpu& vcpu, int os_pu);
  ~VcpuThread();  // kicks a running guest, joins
  VcpuThread(const VcpuThread&) = delete;
  VcpuThread& operator=(const VcpuThread&) = delete;

  void start(const VcpuRunOptions& options);
  // True once the run has ended (or no run is in flight).
  bool wait(std::chrono::nanoseconds timeout);
  VcpuRunResult take_result();
  // Ends the current run as soon as possible with `reason` (no effect when idle).
  void kick(VcpuOutcome reason = VcpuOutcome::Stopped);
  VcpuProgress progress() const;

  int vcpu_id() const { return vcpu_.id(); }
  int pu() const { return pu_; }

 private:
  void thread_main(int os_pu);
  VcpuRunResult run_guest(const VcpuRunOptions& options);
  void note_event(const Ucall* ucall);

  Vcpu& vcpu_;
  std::unique_ptr<BinaryStats> stats_;
  int pu_ = -1;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  std::string start_error_;
  bool quit_ = false;
  bool has_command_ = false;
  bool running_ = false;
  bool has_result_ = false;
  VcpuRunOptions command_;
  VcpuRunResult result_;
  VcpuProgress progress_;  // guarded by mu_
  std::atomic<int> kick_reason_{0};  // 0 = none, else 1 + VcpuOutcome
  pthread_t handle_{};
  std::thread thread_;
};

}  // namespace gpc::kvm
