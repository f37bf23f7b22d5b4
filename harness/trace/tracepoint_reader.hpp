// Reads the events of a run's TraceInstance: libtraceevent parses each event's format
// (events/<system>/<event>/format) once, then every record's fields are read by name, so
// the code follows the running kernel's layout instead of a hard-coded struct (kvm_exit's
// fields differ between VMX and SVM and across kernel versions). A background thread drains
// the per-CPU buffers (trace_pipe_raw) every `interval` so a busy event does not overrun
// them; handlers run on that thread only, and their results are safe to read after stop().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "trace/drain_thread.hpp"

struct tep_handle;
struct tep_event;
struct tep_record;

namespace gpc::trace {

class TraceInstance;

// One event, valid during the handler call.
class TraceEvent {
 public:
  TraceEvent(tep_handle* tep, tep_event* event, tep_record* record, int cpu);
  uint64_t ts_ns() const;  // in the instance's clock ("mono" = CLOCK_MONOTONIC)
  int cpu() const { return cpu_; }
  int tid() const;         // common_pid: the thread the event fired in
  // A numeric field by name (`start`, `exit_reason`, ...); nullopt when the event has none.
  std::optional<uint64_t> field(const char* name) const;
  // The kernel's own rendering of the event (its print fmt: symbolic names such as
  // "reason EXTERNAL_INTERRUPT"). Costs microseconds: cache what you derive from it.
  std::string text() const;

 private:
  tep_handle* tep_;
  tep_event* event_;
  tep_record* record_;
  int cpu_;
};

using EventHandler = std::function<void(const TraceEvent&)>;

class TracepointReader {
 public:
  // Loads the formats of `systems` ("kvm", "syscalls", ...) from the instance's tracefs.
  // Throws UnavailableError when none can be parsed.
  TracepointReader(TraceInstance& instance, const std::vector<std::string>& systems);
  ~TracepointReader();  // stops the drain thread
  TracepointReader(const TracepointReader&) = delete;
  TracepointReader& operator=(const TracepointReader&) = delete;

  // Calls `handler` for every `system:event` record. Throws UnavailableError for an event
  // whose format was not loaded. Register before start().
  void on(const std::string& system, const std::string& event, EventHandler handler);

  // Drains on a background thread every `interval` until stop().
  void start(Nanos interval = std::chrono::milliseconds(10));
  // A last drain, joins the thread, rethrows a handler's exception.
  void stop();
  // One pass over every CPU's buffer on the calling thread (when not started).
  void drain();

  uint64_t events() const { return events_.load(std::memory_order_relaxed); }

 private:
  static int dispatch(tep_event* event, tep_record* record, int cpu, void* self);

  TraceInstance& instance_;
  tep_handle* tep_ = nullptr;
  std::map<int, EventHandler> handlers_;  // by event id
  std::atomic<uint64_t> events_{0};
  DrainThread drainer_;
};

}  // namespace gpc::trace
