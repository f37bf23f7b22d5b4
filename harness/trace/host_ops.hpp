// The host operations of a run (each invalidator step: its thread and CLOCK_MONOTONIC
// begin/end), so the kernel's notifier events can be matched to the operation that caused
// them: same thread, event time inside [begin, end]. The proposed hand-over from the
// invalidator runner (docs/kernel-evidence.md): RunnerOptions gains a `HostOpLog*`, and
// each runner thread calls record(its index, begin, end) around every step. One writer per
// slot and storage reserved up front, so recording takes no lock and never allocates.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace gpc::trace {

struct HostOp {
  pid_t tid = 0;
  uint64_t begin_ns = 0, end_ns = 0;  // CLOCK_MONOTONIC
  size_t slot = 0;                    // the invalidator's index in the runner
};

// CLOCK_MONOTONIC in ns (the clock of steady_clock, perf's use_clockid and trace_clock=mono).
uint64_t mono_now_ns();

class HostOpLog {
 public:
  // `capacity` ops per slot: a free-running mremap does ~32 k ops/s here
  // (MACHINE-NOTES: 31 us per step), so 1 M covers a 30 s run; later ops are counted dropped.
  explicit HostOpLog(size_t slots, size_t capacity = size_t{1} << 20);

  // From slot `slot`'s own thread only.
  void record(size_t slot, uint64_t begin_ns, uint64_t end_ns) noexcept;

  // Every recorded op, after the writers have joined.
  std::vector<HostOp> ops() const;
  uint64_t dropped() const;
  size_t slots() const { return slots_.size(); }

 private:
  struct Slot {
    std::vector<HostOp> ops;  // reserved; size() grows by the writer only
    std::atomic<uint64_t> dropped{0};
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  size_t capacity_;
};

}  // namespace gpc::trace
