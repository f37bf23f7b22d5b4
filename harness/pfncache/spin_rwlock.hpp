// gpc->lock: the kernel's rwlock_t is a spinning reader/writer lock with writer
// preference (qrwlock). This one spins too (pause, then sched_yield because threads here
// can be preempted, unlike kernel code under write_lock_irq), and it detects the two
// misuses the historical bugs produced instead of hanging or corrupting itself:
// re-acquiring a write lock the caller already holds (the v3 inner-loop `continue`), and
// unlocking a lock that was re-initialised under its holder (activate calling rwlock_init).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gpc::pfncache {

class SpinRwLock {
 public:
  // False only when stop_requested() ended the wait.
  bool read_lock();
  void read_unlock();
  // False when the calling thread already holds the write lock (self-deadlock, counted)
  // or when `bound` expired / stop was requested while spinning.
  bool write_lock(std::chrono::nanoseconds bound = std::chrono::seconds(10));
  void write_unlock();
  bool write_held_by_me() const;

  // rwlock_init() on a live lock: forgets every holder. Only Bug::kReinitLock calls it.
  void reinit();

  uint64_t self_deadlocks() const { return self_deadlocks_.load(std::memory_order_relaxed); }
  uint64_t unbalanced_unlocks() const { return unbalanced_.load(std::memory_order_relaxed); }
  uint64_t timeouts() const { return timeouts_.load(std::memory_order_relaxed); }
  uint32_t writers_waiting() const { return writers_waiting_.load(std::memory_order_relaxed); }

 private:
  static constexpr uint32_t kWriter = 1u << 31;
  std::atomic<uint32_t> state_{0};            // kWriter | reader count
  std::atomic<uint32_t> writers_waiting_{0};  // new readers hold back while > 0
  std::atomic<uintptr_t> owner_{0};           // identity of the writing thread
  std::atomic<uint64_t> self_deadlocks_{0};
  std::atomic<uint64_t> unbalanced_{0};
  std::atomic<uint64_t> timeouts_{0};
};

}  // namespace gpc::pfncache
