// Per-thread perf_event counters selected by event name. libpfm4 turns a name ("cycles",
// "task-clock", "context-switches", or a raw PMU name like "amd64_fam19h_zen3::RETIRED_INSTRUCTIONS")
// into a perf_event_attr; the events are opened as one group for the calling thread, so
// they start, stop and get scheduled together. An event that cannot be opened is kept
// with the reason (e.g. no PMU under a hypervisor), never read as a silent zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpc {

struct EventStatus {
  std::string name;        // as requested
  bool available = false;  // opened for this thread
  std::string reason;      // why not (empty when available); a note such as "user only" otherwise
};

struct CounterReading {
  std::string name;
  bool available = false;
  double value = 0;           // scaled by time_enabled/time_running when multiplexed
  uint64_t raw = 0;           // unscaled count
  double running_fraction = 0;  // time_running/time_enabled (1.0 = counted all the time)
  std::string reason;         // why there is no value
};

class ThreadCounters {
 public:
  // Opens `events` for the calling thread (pid=0, cpu=-1), disabled. Throws UsageError
  // for a name libpfm4 does not know; an event that is known but cannot be opened here is
  // recorded as unavailable with the reason.
  explicit ThreadCounters(const std::vector<std::string>& events);
  ~ThreadCounters();
  ThreadCounters(ThreadCounters&& other) noexcept;
  ThreadCounters& operator=(ThreadCounters&& other) noexcept;
  ThreadCounters(const ThreadCounters&) = delete;
  ThreadCounters& operator=(const ThreadCounters&) = delete;

  void start();  // resets and enables the whole group
  void stop();   // disables the whole group; values stay readable
  // Current values of every requested event, in request order (works while running too).
  std::vector<CounterReading> read() const;
  // The scaled value of one event, nullopt if it is unavailable or was never scheduled.
  std::optional<double> value(const std::string& name) const;

  const std::vector<EventStatus>& status() const { return status_; }
  bool all_available() const;

 private:
  void close_all();

  std::vector<EventStatus> status_;
  std::vector<int> fds_;          // one per requested event, -1 if unavailable
  std::vector<int> group_slot_;   // position in the group read, -1 if unavailable
  int leader_ = -1;
};

// Whether one event can be counted for the calling thread here, and why not.
// Unknown names are reported (not thrown) so `gpcbench info` can list them.
EventStatus probe_event(const std::string& name);

// The reason text for a failed perf_event_open(2) of an event of `perf_type`
// (PERF_TYPE_HARDWARE, ...), naming the errno and the likely cause.
std::string describe_open_error(int err, uint32_t perf_type);

}  // namespace gpc
