// BRIEF §1/§7: the per-VM count makes any invalidation anywhere force a retry. With the
// count never reaching zero, a `global` refresh cannot finish (it ends at its bound); a
// `range` refresh of an untouched page completes. What each waiting strategy does in the
// meantime is printed (and recorded as test properties) for docs/pfncache-model.md.
#include <sched.h>
#include <sys/resource.h>

#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/stop.hpp"
#include "pfncache/race_scenarios.hpp"
#include "pfncache/race_fixture.hpp"
#include "pfncache/test_pinning.hpp"

namespace gpc::pfncache {
namespace {
using namespace fixture;

constexpr auto kBound = std::chrono::milliseconds(100);

std::string line(const Policy& p, RefreshResult r, std::chrono::nanoseconds took,
                 const GpcStats& s) {
  return fmt::format(
      "{:<55} {:>9} {:>8.1f}ms resolves={} retries={} yields={} spin={:.1f}ms sleeps={} "
      "wakeups={} invalid_wakeups={} slice_timeouts={}",
      describe(p), to_string(r), took.count() / 1e6, s.hva_to_pfn, s.retries, s.yields,
      s.spin_ns / 1e6, s.sleeps, s.wakeups, s.invalid_wakeups, s.slice_timeouts);
}

class Livelock : public ::testing::TestWithParam<WaitKind> {};

TEST_P(Livelock, HeldUnrelatedInvalidationStarvesGlobalNotRange) {
  const LivelockOutcome global = run_livelock(GetParam(), Filter::kGlobal, kBound);
  const LivelockOutcome range = run_livelock(GetParam(), Filter::kRange, kBound);
  std::cout << global.detail << "\n" << range.detail << "\n";
  RecordProperty("global", global.detail);
  RecordProperty("range", range.detail);
  EXPECT_FALSE(global.completed) << global.detail;
  EXPECT_NE(global.detail.find("timed-out"), std::string::npos) << global.detail;
  EXPECT_TRUE(range.completed) << range.detail;
  EXPECT_NE(range.detail.find("retries=0 "), std::string::npos) << range.detail;
}

// A stream of overlapping unrelated invalidations (pages 4 and 6; the cache is on page
// 0, outside their merged range): the count never reaches zero and seq keeps moving.
TEST_P(Livelock, StreamOfUnrelatedInvalidations) {
  for (auto [hook, filter] : {std::pair{Hook::kStart, Filter::kGlobal},
                              std::pair{Hook::kStart, Filter::kRange},
                              std::pair{Hook::kEnd, Filter::kRange}}) {
    Policy p = policy(GetParam(), hook, filter);
    p.refresh_bound = kBound;
    Fixture f(p);
    ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
    f.swap(0);  // invalid: the refresh must re-resolve (before the stream, or its range would cover page 0)
    std::atomic<bool> stop{false};
    f.vm.invalidate_range_start(hva(4), hva(5));
    std::thread stream([&] {
      bool four_open = true;
      while (!stop.load(std::memory_order_relaxed)) {
        const size_t open = four_open ? 6 : 4, close = four_open ? 4 : 6;
        f.vm.invalidate_range_start(hva(open), hva(open + 1));
        f.vm.invalidate_range_end(hva(close), hva(close + 1));
        four_open = !four_open;
      }
      const size_t still = four_open ? 4 : 6;
      f.vm.invalidate_range_end(hva(still), hva(still + 1));
    });
    ASSERT_TRUE(eventually([&] { return f.vm.stats().ends >= 1000; }));  // stream is flowing
    const uint64_t ends0 = f.vm.stats().ends;
    const auto t0 = Clock::now();
    const RefreshResult r = f.gpc.refresh(8);
    const auto took = Clock::now() - t0;
    const uint64_t ends_during = f.vm.stats().ends - ends0;
    stop = true;
    stream.join();
    std::cout << line(p, r, took, f.gpc.stats()) << " inval_ends_during=" << ends_during << "\n";
    if (filter == Filter::kGlobal) {
      EXPECT_EQ(r, RefreshResult::kTimedOut);
    }
    // v3's flag only reacts to invalidations of this uhva: the stream cannot starve it.
    if (hook == Hook::kEnd) {
      EXPECT_EQ(r, RefreshResult::kOk);
    }
  }
}

// A livelocked refresh also ends on a stop request (Ctrl-C), not only at its bound.
TEST_P(Livelock, StopRequestEndsAWaitingRefresh) {
  Policy p = policy(GetParam(), Hook::kStart, Filter::kGlobal);
  p.refresh_bound = std::chrono::seconds(30);
  Fixture f(p);
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);  // invalid: the refresh must re-resolve
  f.vm.invalidate_range_start(hva(6), hva(7));
  RefreshResult r = RefreshResult::kOk;
  std::thread t([&] { r = f.gpc.refresh(8); });
  // Where the refresh waits is visible for busy (retries), haltpoll and block (a
  // registered sleeper); a spinner shows nothing until it ends, so it is stopped blind.
  if (GetParam() != WaitKind::kSpin) {
    EXPECT_TRUE(eventually([&] {
      return f.vm.wake_word().waiters() > 0 || f.gpc.stats().retries > 0;
    }));
  }
  const auto t0 = Clock::now();
  request_stop();
  t.join();
  reset_stop();
  EXPECT_EQ(r, RefreshResult::kStopped);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));  // far below the 30 s bound
  f.vm.invalidate_range_end(hva(6), hva(7));
}

// Issue 12 item 1: busy's retry loop has cond_resched() semantics, so it never gives the
// CPU away on its own. With another runnable thread on the same PU, a sched_yield() per
// turn switches to it on every turn (the kernel counts such a switch as involuntary,
// since the yielding task stays runnable), so turns and context switches come out about
// equal; the kernel's cond_resched() reschedules only when a reschedule is due, i.e. at
// slice ends, and a loop of sub-microsecond turns makes thousands of turns per switch.
// Counted with getrusage(RUSAGE_THREAD), not timed.
TEST(BusyRetry, NeverYieldsTheCpuVoluntarily) {
  auto pin = [] { return pin_to_first_allowed_pu(); };
  Policy p = policy(WaitKind::kBusy, Hook::kStart, Filter::kGlobal);
  p.refresh_bound = std::chrono::milliseconds(200);
  Fixture f(p);
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);
  f.vm.invalidate_range_start(hva(6), hva(7));  // held: every turn of busy retries
  std::atomic<bool> done{false};
  std::thread spinner([&] {
    if (!pin()) return;
    while (!done.load(std::memory_order_relaxed)) {
    }
  });
  long switches = -1;
  RefreshResult r = RefreshResult::kOk;
  GpcStats s;
  std::thread refresher([&] {
    if (!pin()) return;
    rusage before{}, after{};
    getrusage(RUSAGE_THREAD, &before);
    r = f.gpc.refresh(8);
    getrusage(RUSAGE_THREAD, &after);
    switches = (after.ru_nvcsw - before.ru_nvcsw) + (after.ru_nivcsw - before.ru_nivcsw);
  });
  refresher.join();
  done = true;
  spinner.join();
  f.vm.invalidate_range_end(hva(6), hva(7));
  s = f.gpc.stats();
  EXPECT_EQ(r, RefreshResult::kTimedOut);
  ASSERT_GE(switches, 0) << "could not pin the test threads";
  EXPECT_GT(s.retries, 10u);
  EXPECT_LT(static_cast<uint64_t>(switches) * 10, s.retries)
      << "busy gave the CPU away " << switches << " times in " << s.retries << " turns";
  EXPECT_EQ(s.yields, 0u);
  RecordProperty("turns_per_switch", std::to_string(s.retries / static_cast<uint64_t>(std::max(switches, 1L))));
  std::cout << "busy: " << s.retries << " turns, " << switches << " context switches\n";
}

INSTANTIATE_TEST_SUITE_P(Strategies, Livelock,
                         ::testing::Values(WaitKind::kBusy, WaitKind::kSpin, WaitKind::kHaltPoll,
                                           WaitKind::kBlock),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

}  // namespace
}  // namespace gpc::pfncache
