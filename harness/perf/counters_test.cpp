#include "perf/counters.hpp"

#include <gtest/gtest.h>
#include <perfmon/perf_event.h>
#include <time.h>

#include <cstdint>

#include "common/errors.hpp"

namespace gpc {
namespace {

uint64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Burns CPU on this thread until its CPU clock advanced by `ns` (not wall time, so a
// busy machine only makes the test slower, never wrong).
void burn_cpu(uint64_t ns) {
  const uint64_t until = thread_cpu_ns() + ns;
  volatile uint64_t sink = 0;
  while (thread_cpu_ns() < until)
    for (int i = 0; i < 1000; ++i) sink = sink + static_cast<uint64_t>(i);
}

TEST(Counters, TaskClockGrowsAcrossABusyLoopAndMatchesThreadCpuTime) {
  ThreadCounters c({"task-clock", "context-switches", "page-faults"});
  const auto& st = c.status();
  if (!st[0].available) GTEST_SKIP() << "task-clock unavailable: " << st[0].reason;
  c.start();
  const uint64_t cpu0 = thread_cpu_ns();
  burn_cpu(5'000'000);
  const double mid = c.value("task-clock").value();
  burn_cpu(5'000'000);
  const uint64_t cpu1 = thread_cpu_ns();
  c.stop();
  const double end = c.value("task-clock").value();
  EXPECT_GT(mid, 0.0);
  EXPECT_GT(end, mid);
  // Both measure this thread's CPU time over the same interval.
  const double ratio = end / static_cast<double>(cpu1 - cpu0);
  EXPECT_GT(ratio, 0.8);
  EXPECT_LT(ratio, 1.25);
  // Stopped counters stay put.
  burn_cpu(1'000'000);
  EXPECT_EQ(c.value("task-clock").value(), end);
  // Software events opened too, and read as real (possibly zero) counts.
  EXPECT_TRUE(c.value("context-switches").has_value());
  EXPECT_TRUE(c.value("page-faults").has_value());
}

TEST(Counters, StartResetsTheGroup) {
  ThreadCounters c({"task-clock"});
  if (!c.all_available()) GTEST_SKIP() << "task-clock unavailable: " << c.status()[0].reason;
  c.start();
  burn_cpu(5'000'000);
  c.stop();
  const double first = c.value("task-clock").value();
  c.start();
  c.stop();
  EXPECT_LT(c.value("task-clock").value(), first);
}

TEST(Counters, BogusNameIsANamedUsageError) {
  try {
    ThreadCounters c({"task-clock", "no-such-event-xyz"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-event-xyz"), std::string::npos) << e.what();
  }
  const auto probe = probe_event("no-such-event-xyz");
  EXPECT_FALSE(probe.available);
  EXPECT_NE(probe.reason.find("no-such-event-xyz"), std::string::npos);
}

TEST(Counters, CyclesCountOrSkipWithTheReason) {
  ThreadCounters c({"cycles", "instructions", "task-clock"});
  const auto& cycles = c.status()[0];
  if (!cycles.available) {
    // Never a silent zero: the value is absent and the reason is carried.
    EXPECT_FALSE(c.value("cycles").has_value());
    EXPECT_FALSE(cycles.reason.empty());
    auto readings = c.read();
    EXPECT_EQ(readings[0].reason, cycles.reason);
    GTEST_SKIP() << "hardware counters unavailable: cycles: " << cycles.reason;
  }
  c.start();
  burn_cpu(5'000'000);
  c.stop();
  EXPECT_GT(c.value("cycles").value(), 1e5);
}

TEST(Counters, OpenErrorReasonsNameTheErrnoAndCause) {
  EXPECT_EQ(describe_open_error(ENOENT, PERF_TYPE_HARDWARE),
            "no hardware PMU driver (ENOENT); running under a hypervisor without PMU passthrough?");
  EXPECT_EQ(describe_open_error(ENOENT, PERF_TYPE_SOFTWARE), "this kernel does not support the event (ENOENT)");
  EXPECT_NE(describe_open_error(EACCES, PERF_TYPE_HARDWARE).find("perf_event_paranoid"), std::string::npos);
}

TEST(Counters, MovedCountersKeepCounting) {
  ThreadCounters a({"task-clock"});
  if (!a.all_available()) GTEST_SKIP() << "task-clock unavailable: " << a.status()[0].reason;
  ThreadCounters b = std::move(a);
  b.start();
  burn_cpu(2'000'000);
  b.stop();
  EXPECT_GT(b.value("task-clock").value(), 0.0);
}

}  // namespace
}  // namespace gpc
