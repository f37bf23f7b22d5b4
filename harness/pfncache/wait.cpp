#include "pfncache/wait.hpp"

#include <cerrno>
#include <climits>
#include <ctime>

#include <immintrin.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/stop.hpp"

namespace gpc::pfncache {

WakeWord::Slept WakeWord::sleep(uint32_t seen, std::chrono::nanoseconds max) {
  if (word_.load(std::memory_order_seq_cst) != seen) return Slept::kWoken;
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(max.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(max.count() % 1'000'000'000);
  // The futex word is the atomic's storage: std::atomic<uint32_t> is lock-free and has
  // the size and alignment of uint32_t, which is what FUTEX_WAIT compares against.
  const long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, seen,
                          &ts, nullptr, 0);
  const int err = rc == 0 ? 0 : errno;
  if (word_.load(std::memory_order_seq_cst) != seen) return Slept::kWoken;
  return err == ETIMEDOUT ? Slept::kTimedOut : Slept::kSpurious;
}

void WakeWord::wake_all() {
  word_.fetch_add(1, std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_seq_cst) == 0) return;
  wake_syscalls_.fetch_add(1, std::memory_order_relaxed);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

void HaltPollWindow::grow(const HaltPollParams& p) {
  uint64_t v = ns();
  if (p.grow == 0) return;
  v *= p.grow;
  if (v < p.start_ns) v = p.start_ns;
  if (v > p.max_ns) v = p.max_ns;
  ns_.store(static_cast<uint32_t>(v), std::memory_order_relaxed);
}

void HaltPollWindow::shrink(const HaltPollParams& p) {
  uint32_t v = ns();
  v = p.shrink == 0 ? 0 : v / p.shrink;
  if (v < p.start_ns) v = 0;  // below the start value polling is not worth it: reset
  ns_.store(v, std::memory_order_relaxed);
}

void HaltPollWindow::update(uint64_t waited_ns, bool valid, const HaltPollParams& p) {
  const uint32_t cur = ns();
  if (!valid) {
    shrink(p);
  } else if (p.max_ns == 0) {
    ns_.store(0, std::memory_order_relaxed);
  } else if (waited_ns <= cur) {
    // the poll caught the end of the invalidation: keep the window
  } else if (cur != 0 && waited_ns > p.max_ns) {
    shrink(p);  // a long wait: polling longer would not have helped
  } else if (cur < p.max_ns && waited_ns < p.max_ns) {
    grow(p);  // a short wait the window just missed
  }
}

namespace detail {

PhaseResult timeout_or_advance(Clock::time_point deadline, Clock::time_point phase_end) {
  return timeout_or_advance(Clock::now(), deadline, phase_end);
}

PhaseResult timeout_or_advance(Clock::time_point now, Clock::time_point deadline, Clock::time_point phase_end) {
  if (stop_requested()) return PhaseResult::kTimeout;
  if (now >= deadline) return PhaseResult::kTimeout;
  if (now >= phase_end) return PhaseResult::kAdvance;
  return PhaseResult::kContinue;
}

bool stop_now() { return stop_requested(); }
void pause_once() { _mm_pause(); }
void yield_once() { sched_yield(); }

}  // namespace detail
}  // namespace gpc::pfncache
