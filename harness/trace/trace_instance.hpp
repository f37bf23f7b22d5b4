// A tracefs instance owned by one run: its own ring buffer, event enables, filters, pid
// filter and clock, so the global (top-level) tracing state is never read or changed.
// Named "gpcbench-<pid>-<n>"; removed (rmdir) by the destructor, which every exit path of
// a run reaches, Ctrl-C included (gpc::stop_requested() ends the run through the same
// teardown). An instance left behind by a killed process (SIGKILL cannot be caught) is
// removed by the next create() on the machine: its pid no longer exists.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct tracefs_instance;

namespace gpc::trace {

class TracefsRoot;

inline constexpr const char* kInstancePrefix = "gpcbench-";

struct InstanceOptions {
  // The instance's trace clock. "mono" stamps events with CLOCK_MONOTONIC, the clock of
  // std::chrono::steady_clock, so event times compare directly with the harness's own.
  std::string clock = "mono";
  // Ring buffer per CPU. kvm_exit fires once per exit (70 k/s measured in `run pingpong`,
  // docs/kvm-and-guests.md); at ~48 bytes per event a 10 ms drain interval needs ~34 KB per
  // CPU, so 4 MB leaves two orders of magnitude for a reader thread that is descheduled.
  size_t buffer_kb_per_cpu = 4096;
  // Only events of these processes (all their threads) and of threads and children they
  // create later (set_event_pid + options/event-fork). Empty: every task.
  std::vector<pid_t> processes;
};

class TraceInstance {
 public:
  // Creates and configures the instance (tracing off until start()). Removes stale
  // gpcbench instances of dead processes first. Throws UnavailableError with the reason.
  static std::unique_ptr<TraceInstance> create(const TracefsRoot& root, const InstanceOptions& options);
  ~TraceInstance();  // stops tracing and removes the instance
  TraceInstance(const TraceInstance&) = delete;
  TraceInstance& operator=(const TraceInstance&) = delete;

  // Enables `system:event` with an optional tracefs filter expression ("common_pid == 7").
  // Throws UnavailableError when the event does not exist here ("kvm:kvm_exit: no such
  // event; is the kvm module loaded?") or the filter is rejected.
  void enable_event(const std::string& system, const std::string& event, const std::string& filter = "");
  void start();  // tracing_on = 1
  void stop();   // tracing_on = 0; the buffer stays readable

  // Events the ring buffer dropped (overrun + dropped events over every CPU's stats).
  uint64_t lost_events() const;

  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }  // <tracefs>/instances/<name>
  const std::string& tracefs_path() const { return tracefs_path_; }
  struct tracefs_instance* handle() const { return handle_; }

 private:
  TraceInstance() = default;
  void write(const std::string& file, const std::string& value, const char* what);
  void remove();

  std::string name_, dir_, tracefs_path_;
  struct tracefs_instance* handle_ = nullptr;
};

// Removes every "gpcbench-<pid>-<n>" instance under `tracefs_path` whose pid is no longer
// alive; returns how many it removed.
int remove_stale_instances(const std::string& tracefs_path);

// Whether an instance directory of that name exists under `tracefs_path` (tests).
bool instance_exists(const std::string& tracefs_path, const std::string& name);

}  // namespace gpc::trace
