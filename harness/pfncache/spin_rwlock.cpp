#include "pfncache/spin_rwlock.hpp"

#include <immintrin.h>
#include <sched.h>

#include "common/stop.hpp"

namespace gpc::pfncache {
namespace {

// A per-thread address is a cheap, unique thread identity.
uintptr_t self_id() {
  static thread_local char tag;
  return reinterpret_cast<uintptr_t>(&tag);
}

// 64 pauses (~124 ns per cross-core cache-line round trip here, MACHINE-NOTES) before
// each yield: long enough for a short critical section on the other CPU to finish, short
// enough that a preempted holder on our CPU gets to run.
constexpr int kPausesPerYield = 64;

void backoff(int& spins) {
  if (++spins % kPausesPerYield == 0)
    sched_yield();
  else
    _mm_pause();
}

}  // namespace

bool SpinRwLock::read_lock_slow(std::chrono::nanoseconds bound, bool stoppable) {
  // Back out the fast path's increment. Never below zero: a reinit() may have zeroed the
  // count since, and a wrap would set the writer bit.
  uint32_t s = state_.load(std::memory_order_relaxed);
  while ((s & ~kWriter) != 0 &&
         !state_.compare_exchange_weak(s, s - 1, std::memory_order_relaxed)) {
  }
  const bool bounded = bound != std::chrono::nanoseconds::max();
  const auto until = bounded ? std::chrono::steady_clock::now() + bound
                             : std::chrono::steady_clock::time_point::max();
  readers_waiting_.fetch_add(1, std::memory_order_relaxed);
  int spins = 0;
  bool got = false;
  for (;;) {
    if (read_trylock()) {
      got = true;
      break;
    }
    if (spins % 1024 == 1023 &&
        ((stoppable && stop_requested()) || (bounded && std::chrono::steady_clock::now() >= until)))
      break;
    backoff(spins);
  }
  readers_waiting_.fetch_sub(1, std::memory_order_relaxed);
  return got;
}

bool SpinRwLock::read_trylock() {
  if (writers_waiting_.load(std::memory_order_relaxed) != 0) return false;
  uint32_t s = state_.load(std::memory_order_relaxed);
  while (!(s & kWriter)) {
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                     std::memory_order_relaxed))
      return true;
  }
  return false;
}

void SpinRwLock::read_unlock_slow() {
  uint32_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & ~kWriter) == 0) {  // the lock was re-initialised under this reader
      unbalanced_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (state_.compare_exchange_weak(s, s - 1, std::memory_order_release,
                                     std::memory_order_relaxed))
      return;
  }
}

bool SpinRwLock::write_lock(std::chrono::nanoseconds bound, bool stoppable) {
  if (write_held_by_me()) {
    self_deadlocks_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  writers_waiting_.fetch_add(1, std::memory_order_relaxed);
  const auto until = std::chrono::steady_clock::now() + bound;
  int spins = 0;
  bool got = false;
  for (;;) {
    uint32_t expected = 0;
    if (state_.compare_exchange_weak(expected, kWriter, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      got = true;
      break;
    }
    if (spins % 1024 == 1023 &&
        ((stoppable && stop_requested()) || std::chrono::steady_clock::now() >= until)) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    backoff(spins);
  }
  // A re-initialisation may have zeroed the counter meanwhile; never wrap it.
  uint32_t w = writers_waiting_.load(std::memory_order_relaxed);
  while (w > 0 && !writers_waiting_.compare_exchange_weak(w, w - 1, std::memory_order_relaxed)) {
  }
  if (got) owner_.store(self_id(), std::memory_order_relaxed);
  return got;
}

void SpinRwLock::write_unlock() {
  owner_.store(0, std::memory_order_relaxed);
  state_.fetch_and(~kWriter, std::memory_order_release);
}

bool SpinRwLock::write_held_by_me() const {
  return owner_.load(std::memory_order_relaxed) == self_id();
}

void SpinRwLock::reinit() {
  owner_.store(0, std::memory_order_relaxed);
  writers_waiting_.store(0, std::memory_order_relaxed);
  state_.store(0, std::memory_order_release);
}

}  // namespace gpc::pfncache
