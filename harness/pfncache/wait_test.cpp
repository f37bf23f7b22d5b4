#include "pfncache/wait.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "common/stop.hpp"
#include "pfncache/test_pinning.hpp"

namespace gpc::pfncache {
namespace {

// Polls `cond` with a yield until true or 10 s pass (a liveness bound, not a timing).
template <typename Cond>
bool eventually_true(Cond&& cond) {
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (Clock::now() >= until) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(HaltPollWindow, FollowsKvmGrowAndShrink) {
  HaltPollParams p;  // start 10 µs, grow x2, max 200 µs
  p.shrink = 0;      // the pre-6.11 default first: a long wait resets the window
  HaltPollWindow w;
  EXPECT_EQ(w.ns(), 0u);
  w.update(5'000, true, p);  // a short wait the (empty) window missed: grow to start
  EXPECT_EQ(w.ns(), 10'000u);
  w.update(15'000, true, p);
  EXPECT_EQ(w.ns(), 20'000u);
  w.update(15'000, true, p);  // caught by the poll: unchanged
  EXPECT_EQ(w.ns(), 20'000u);
  for (int i = 0; i < 10; ++i) w.update(190'000, true, p);  // 40, 80, 160, then capped
  EXPECT_EQ(w.ns(), 200'000u);  // capped at max
  w.update(300'000, true, p);  // longer than max: shrink (to 0 with shrink=0)
  EXPECT_EQ(w.ns(), 0u);
  p.shrink = 2;
  w.update(5'000, true, p);
  w.update(15'000, true, p);
  w.update(25'000, true, p);
  EXPECT_EQ(w.ns(), 40'000u);
  w.update(0, false, p);  // invalid wakeup: shrink by 2
  EXPECT_EQ(w.ns(), 20'000u);
  w.update(0, false, p);  // 10 µs is not below start
  EXPECT_EQ(w.ns(), 10'000u);
  w.update(0, false, p);  // 5 µs < start: reset
  EXPECT_EQ(w.ns(), 0u);
}

TEST(WaitPhased, ClearAtOnceTimeoutAndStop) {
  WakeWord word;
  AtomicGpcStats st;
  WaitPhases spin{std::chrono::milliseconds(1), {}, false};
  EXPECT_EQ(wait_phased([] { return false; }, spin, word, Clock::now() + std::chrono::seconds(1),
                        std::chrono::milliseconds(5), st),
            WaitResult::kClear);
  // Spin budget over with no further phase: the waiter gives up (timed out).
  EXPECT_EQ(wait_phased([] { return true; }, spin, word, Clock::now() + std::chrono::seconds(1),
                        std::chrono::milliseconds(5), st),
            WaitResult::kTimedOut);
  WaitPhases block{{}, {}, true};
  EXPECT_EQ(wait_phased([] { return true; }, block, word,
                        Clock::now() + std::chrono::milliseconds(30), std::chrono::milliseconds(5),
                        st),
            WaitResult::kTimedOut);
  request_stop();
  EXPECT_EQ(wait_phased([] { return true; }, block, word, Clock::now() + std::chrono::seconds(5),
                        std::chrono::milliseconds(5), st),
            WaitResult::kStopped);
  reset_stop();
  EXPECT_GT(st.snapshot().sleeps, 0u);
}

TEST(WaitPhased, BlockedWaiterIsWokenByWakeAll) {
  WakeWord word;
  AtomicGpcStats st;
  std::atomic<bool> pending{true};
  WaitResult r = WaitResult::kTimedOut;
  std::thread t([&] {
    r = wait_phased([&] { return pending.load(); }, WaitPhases{{}, {}, true}, word,
                    Clock::now() + std::chrono::seconds(10), std::chrono::seconds(5), st);
  });
  while (word.waiters() == 0) std::this_thread::yield();
  pending = false;
  word.wake_all();
  t.join();
  EXPECT_EQ(r, WaitResult::kClear);
  EXPECT_EQ(st.snapshot().wakeups, 1u);
  EXPECT_EQ(word.wake_syscalls(), 1u);
}

// Issue 12 item 10: the end of a re-check slice is the model's own timer, not a wakeup.
// KVM's halt_poll_invalid counts wake events after which the vCPU still had nothing to
// do; "invalid_wakeups" must mean the same, so slice ends are counted apart.
TEST(WaitPhased, SliceEndsAreNotWakeups) {
  WakeWord word;
  AtomicGpcStats st;
  const auto r = wait_phased([] { return true; }, WaitPhases{{}, {}, true}, word,
                             Clock::now() + std::chrono::milliseconds(40), std::chrono::milliseconds(5), st);
  EXPECT_EQ(r, WaitResult::kTimedOut);
  const GpcStats s = st.snapshot();
  EXPECT_GE(s.slice_timeouts, 2u);
  EXPECT_EQ(s.wakeups, 0u);
  EXPECT_EQ(s.invalid_wakeups, 0u);
}

// A wake after which the invalidation still pends (another began before the waiter ran)
// is an invalid wakeup; the wake that finds it clear is a valid one.
TEST(WaitPhased, WakeWithWorkStillPendingIsAnInvalidWakeup) {
  WakeWord word;
  AtomicGpcStats st;
  std::atomic<int> phase{0};  // 0: pending; 1: woken once, still pending; 2: clear
  WaitResult r = WaitResult::kTimedOut;
  std::thread t([&] {
    r = wait_phased([&] { return phase.load() < 2; }, WaitPhases{{}, {}, true}, word,
                    Clock::now() + std::chrono::seconds(20), std::chrono::seconds(10), st);
  });
  for (int round = 1; round <= 2; ++round) {
    // Generous bound: a liveness check, never a timing.
    ASSERT_TRUE(eventually_true([&] { return word.waiters() > 0; }));
    phase = round;
    word.wake_all();
    if (round == 1) {
      ASSERT_TRUE(eventually_true([&] { return st.snapshot().wakeups >= 1; }));
    }
  }
  t.join();
  EXPECT_EQ(r, WaitResult::kClear);
  const GpcStats s = st.snapshot();
  EXPECT_EQ(s.wakeups, 2u);
  EXPECT_EQ(s.invalid_wakeups, 1u);
  EXPECT_EQ(s.slice_timeouts, 0u);
}

// Issue 12 item 7: KVM stops halt polling as soon as another task is runnable on the CPU
// (kvm_vcpu_can_poll: single_task_running()). Userspace sees that only once the poller
// has been descheduled; the poll must then end and block. A co-runner is pinned to the
// poller's PU; the poll budget (30 s) is far beyond the liveness bound (5 s).
TEST(WaitPhased, PollEndsOnceAnotherTaskTookTheCpu) {
  auto pin = [] { return pin_to_first_allowed_pu(); };
  WakeWord word;
  AtomicGpcStats st;
  std::atomic<bool> pending{true}, done{false};
  std::thread corunner([&] {
    if (!pin()) return;
    while (!done.load(std::memory_order_relaxed)) {
    }
  });
  WaitResult r = WaitResult::kTimedOut;
  std::thread poller([&] {
    if (!pin()) return;
    WaitPhases plan{std::chrono::seconds(30), {}, true};
    plan.stop_when_preempted = true;
    r = wait_phased([&] { return pending.load(); }, plan, word, Clock::now() + std::chrono::seconds(60),
                    std::chrono::seconds(1), st);
  });
  const bool blocked = eventually_true([&] { return word.waiters() > 0; });  // 10 s bound
  pending = false;
  word.wake_all();
  poller.join();
  done = true;
  corunner.join();
  EXPECT_TRUE(blocked) << "the poll went on although another task had taken the CPU";
  EXPECT_EQ(r, WaitResult::kClear);
  EXPECT_GE(st.snapshot().polls_preempted, 1u);
}

}  // namespace
}  // namespace gpc::pfncache
