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
  // False only when stop_requested() ended the wait. Inline fast path: one locked add,
  // the writer bit and waiting writers checked after it (the qrwlock reader shape).
  bool read_lock() {
    const uint32_t s = state_.fetch_add(1, std::memory_order_acquire);
    if (!(s & kWriter) && writers_waiting_.load(std::memory_order_relaxed) == 0) [[likely]]
      return true;
    return read_lock_slow();
  }
  // The same with a bound: false when `bound` expired or (if `stoppable`) stop was
  // requested. The MMU notifier's walk passes stoppable=false, like write_lock below.
  bool read_lock_for(std::chrono::nanoseconds bound, bool stoppable) {
    const uint32_t s = state_.fetch_add(1, std::memory_order_acquire);
    if (!(s & kWriter) && writers_waiting_.load(std::memory_order_relaxed) == 0) [[likely]]
      return true;
    return read_lock_slow(bound, stoppable);
  }
  // read_trylock (qrwlock's queued_read_trylock): fails at once when a writer holds the
  // lock or waits for it.
  bool read_trylock();
  // A load and a compare-exchange rather than fetch_sub: after a reinit() under this reader
  // the count is already 0, and a blind decrement would wrap it into the writer bit.
  void read_unlock() {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if ((s & ~kWriter) != 0 &&
        state_.compare_exchange_weak(s, s - 1, std::memory_order_release,
                                     std::memory_order_relaxed)) [[likely]]
      return;
    read_unlock_slow();
  }
  // False when the calling thread already holds the write lock (self-deadlock, counted)
  // or when `bound` expired / (if `stoppable`) stop was requested while spinning. The MMU
  // notifier's path passes stoppable=false: an invalidation may not give up on Ctrl-C, or
  // the page would move under a cache still marked valid.
  bool write_lock(std::chrono::nanoseconds bound = std::chrono::seconds(10), bool stoppable = true);
  void write_unlock();
  bool write_held_by_me() const;

  // rwlock_init() on a live lock: forgets every holder. Only Bug::kReinitLock calls it.
  void reinit();

  uint64_t self_deadlocks() const { return self_deadlocks_.load(std::memory_order_relaxed); }
  uint64_t unbalanced_unlocks() const { return unbalanced_.load(std::memory_order_relaxed); }
  uint64_t timeouts() const { return timeouts_.load(std::memory_order_relaxed); }
  uint32_t writers_waiting() const { return writers_waiting_.load(std::memory_order_relaxed); }
  // Readers spinning in the slow path (a test can see a reader is blocked).
  uint32_t readers_waiting() const { return readers_waiting_.load(std::memory_order_relaxed); }

 private:
  static constexpr uint32_t kWriter = 1u << 31;
  // Backs out the fast path's increment, then spins (until stop, or `bound` if given).
  bool read_lock_slow(std::chrono::nanoseconds bound = std::chrono::nanoseconds::max(),
                      bool stoppable = true);
  void read_unlock_slow();
  std::atomic<uint32_t> state_{0};            // kWriter | reader count
  std::atomic<uint32_t> writers_waiting_{0};  // new readers hold back while > 0
  std::atomic<uint32_t> readers_waiting_{0};
  std::atomic<uintptr_t> owner_{0};           // identity of the writing thread
  std::atomic<uint64_t> self_deadlocks_{0};
  std::atomic<uint64_t> unbalanced_{0};
  std::atomic<uint64_t> timeouts_{0};
};

}  // namespace gpc::pfncache
