// How a refresh waits for invalidations in progress. A wait runs up to three phases in
// order, like folly's WaitOptions: spin (pause), yield (sched_yield), block (futex). Each
// phase ends with success (the invalidation is over), timeout (bound or stop: give up), or
// advance (its own budget is spent: go to the next phase). The four strategies of
// BRIEF §1 are phase plans: busy = none (retry instead), spin = spin only, haltpoll =
// spin for an adaptive window then block, block = block only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "pfncache/policy.hpp"
#include "pfncache/stats.hpp"

namespace gpc::pfncache {

using Clock = std::chrono::steady_clock;

enum class WaitResult { kClear, kTimedOut, kStopped };

// The word range_end bumps when the active-invalidation count reaches zero; blocked
// refreshes sleep on it (the userspace stand-in for v3's gpc_invalidate_wq / rcuwait).
class WakeWord {
 public:
  uint32_t snapshot() const { return word_.load(std::memory_order_seq_cst); }
  // A sleeper registers before its last re-check so wake_all() cannot miss it (the
  // waker bumps the word and then reads the waiter count, both seq_cst).
  void register_waiter() { waiters_.fetch_add(1, std::memory_order_seq_cst); }
  void unregister_waiter() { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  // Sleeps while the word still equals `seen`, at most `max`.
  enum class Slept {
    kWoken,     // the word changed (a wake_all, before or during the sleep)
    kTimedOut,  // `max` ran out with the word unchanged
    kSpurious,  // the futex returned early with the word unchanged (a signal)
  };
  Slept sleep(uint32_t seen, std::chrono::nanoseconds max);
  // Bumps the word; issues FUTEX_WAKE only when someone sleeps (13 µs per call here).
  void wake_all();
  uint32_t waiters() const { return waiters_.load(std::memory_order_seq_cst); }
  uint64_t wake_syscalls() const { return wake_syscalls_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> word_{0};
  std::atomic<uint32_t> waiters_{0};
  std::atomic<uint64_t> wake_syscalls_{0};
};

struct WaitPhases {
  std::chrono::nanoseconds spin{0};   // budget of the pause phase
  std::chrono::nanoseconds yield{0};  // budget of the sched_yield phase
  bool block = false;                 // sleep on the WakeWord until clear or deadline
  // End the pause phase once the thread has been descheduled during it: the userspace
  // stand-in for kvm_vcpu_can_poll()'s single_task_running() (halt polling stops as soon
  // as another task is runnable on the CPU). Userspace can only see it afterwards, as a
  // gap between two clock reads (docs/pfncache-model.md).
  bool stop_when_preempted = false;
};

// A gap this long between two clock reads of the pause loop means the thread did not run
// in between. 32 pauses take 0.58 us here (p50; p99 0.61 us, 2.3 M batches, /tmp gap
// probe in issue 12's notes); gaps above 20 us occurred only while other tasks were
// runnable (4 426 in 2 s at load average 3.3, none idle).
inline constexpr std::chrono::nanoseconds kDescheduledGap = std::chrono::microseconds(20);

// The adaptive poll window of KVM halt polling (grow_halt_poll_ns/shrink_halt_poll_ns and
// the decision in kvm_vcpu_halt), kept per cache as the kernel keeps it per vCPU.
class HaltPollWindow {
 public:
  uint32_t ns() const { return ns_.load(std::memory_order_relaxed); }
  // After one wait of `waited_ns` (poll + block). `valid` = it ended because the
  // invalidation finished (a timeout or stop is the analogue of an invalid wakeup).
  void update(uint64_t waited_ns, bool valid, const HaltPollParams& p);

 private:
  void grow(const HaltPollParams& p);
  void shrink(const HaltPollParams& p);
  std::atomic<uint32_t> ns_{0};  // starts at 0 like vcpu->halt_poll_ns
};

namespace detail {
enum class PhaseResult { kSuccess, kTimeout, kAdvance, kContinue };
PhaseResult timeout_or_advance(Clock::time_point deadline, Clock::time_point phase_end);
PhaseResult timeout_or_advance(Clock::time_point now, Clock::time_point deadline, Clock::time_point phase_end);
bool stop_now();
void pause_once();
void yield_once();

// The pause phase: spin until clear, the budget is spent, the deadline passes, or (if
// asked) the thread turns out to have been descheduled.
template <typename Pending>
PhaseResult spin_phase(Pending& pending, const WaitPhases& plan, Clock::time_point deadline, AtomicGpcStats& st) {
  const auto t0 = Clock::now();
  const auto end = t0 + plan.spin;
  auto last = t0;
  PhaseResult r = PhaseResult::kAdvance;
  for (uint32_t i = 1;; ++i) {
    if (!pending()) {
      r = PhaseResult::kSuccess;
      break;
    }
    pause_once();
    // clock_gettime costs 16-28 ns here: read it every 32 pauses (~0.6 us), not every one.
    if (i % 32 != 0) continue;
    const auto now = Clock::now();
    if (plan.stop_when_preempted && now - last > kDescheduledGap) {
      AtomicGpcStats::add(st.polls_preempted);
      r = PhaseResult::kAdvance;
      break;
    }
    last = now;
    r = timeout_or_advance(now, deadline, end);
    if (r != PhaseResult::kContinue) break;
  }
  AtomicGpcStats::add(st.spin_ns, static_cast<uint64_t>((Clock::now() - t0).count()));
  return r;
}
}  // namespace detail

// Waits while `pending()` is true. `pending` must be cheap and safe to call from any
// thread (it reads atomics of the notifier state).
template <typename Pending>
WaitResult wait_phased(Pending&& pending, const WaitPhases& plan, WakeWord& word,
                       Clock::time_point deadline, std::chrono::nanoseconds block_slice,
                       AtomicGpcStats& st) {
  using detail::PhaseResult;
  const auto t_begin = Clock::now();
  auto finish = [&](WaitResult r) {
    AtomicGpcStats::add(st.wait_ns, static_cast<uint64_t>((Clock::now() - t_begin).count()));
    return r;
  };
  auto fail = [&]() { return finish(detail::stop_now() ? WaitResult::kStopped : WaitResult::kTimedOut); };
  if (!pending()) return finish(WaitResult::kClear);

  if (plan.spin.count() > 0) {
    const PhaseResult r = detail::spin_phase(pending, plan, deadline, st);
    if (r == PhaseResult::kSuccess) return finish(WaitResult::kClear);
    if (r == PhaseResult::kTimeout) return fail();
  }

  if (plan.yield.count() > 0) {
    const auto t0 = Clock::now();
    const auto end = t0 + plan.yield;
    PhaseResult r = PhaseResult::kAdvance;
    for (;;) {
      if (!pending()) { r = PhaseResult::kSuccess; break; }
      detail::yield_once();
      AtomicGpcStats::add(st.yields);
      r = detail::timeout_or_advance(deadline, end);
      if (r != PhaseResult::kContinue) break;
    }
    AtomicGpcStats::add(st.yield_ns, static_cast<uint64_t>((Clock::now() - t0).count()));
    if (r == PhaseResult::kSuccess) return finish(WaitResult::kClear);
    if (r == PhaseResult::kTimeout) return fail();
  }

  if (!plan.block) return finish(pending() ? WaitResult::kTimedOut : WaitResult::kClear);
  for (;;) {
    if (!pending()) return finish(WaitResult::kClear);
    const auto now = Clock::now();
    if (detail::stop_now() || now >= deadline) return fail();
    const uint32_t seen = word.snapshot();
    word.register_waiter();
    if (!pending()) {
      word.unregister_waiter();
      return finish(WaitResult::kClear);
    }
    auto slice = std::min<std::chrono::nanoseconds>(block_slice, deadline - now);
    const auto t0 = Clock::now();
    const WakeWord::Slept slept = word.sleep(seen, slice);
    word.unregister_waiter();
    AtomicGpcStats::add(st.sleeps);
    AtomicGpcStats::add(st.sleep_ns, static_cast<uint64_t>((Clock::now() - t0).count()));
    // Only a real wake counts, as in KVM's halt stats: the end of the re-check slice is
    // the model's own timer (Policy::block_slice), not an event, so it is counted apart.
    if (slept == WakeWord::Slept::kTimedOut) {
      AtomicGpcStats::add(st.slice_timeouts);
    } else if (slept == WakeWord::Slept::kWoken) {
      AtomicGpcStats::add(st.wakeups);
      // halt_poll_invalid: woken, yet what we wait for is not there (the count dropped
      // to zero and another invalidation of this range began before we ran).
      if (pending()) AtomicGpcStats::add(st.invalid_wakeups);
    }
  }
}

}  // namespace gpc::pfncache
