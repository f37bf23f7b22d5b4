// The other side of the waiting-strategy trade: a thread pinned to a waiter's PU doing
// fixed units of CPU work. Its progress while the waiter runs, divided by its progress
// alone on the same PU, is what a strategy gives back to (or takes from) the CPU.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace gpc {

class CoRunner {
 public:
  // Starts the thread on `os_pu` (-1: unpinned). It works until stop() or destruction.
  explicit CoRunner(int os_pu);
  ~CoRunner();
  CoRunner(const CoRunner&) = delete;
  CoRunner& operator=(const CoRunner&) = delete;

  // Stops and joins the thread; idempotent. Returns work units per second over its run.
  double stop();
  uint64_t units() const { return units_.load(std::memory_order_relaxed); }
  int pu() const { return pu_; }

  // Units per second of a co-runner alone on `os_pu` for `how_long`: the baseline that
  // progress is relative to. Measured right before a run, on the same PU.
  static double measure_alone(int os_pu, std::chrono::nanoseconds how_long);

  // One unit of work: a fixed, dependency-chained integer computation (~1-2 us here) that
  // the compiler cannot remove and that touches no shared memory.
  static uint64_t work_unit(uint64_t seed);

 private:
  void loop();

  int pu_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> units_{0};
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point stopped_;
  double rate_ = 0;
  bool joined_ = false;
  std::thread thread_;
};

}  // namespace gpc
