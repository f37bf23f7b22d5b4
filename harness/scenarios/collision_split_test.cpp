// The collided/uncollided split: the decision (active count at the failed check, or the
// refresh retried or waited), and what the record derives from the two sides.
#include "scenarios/collision_split.hpp"

#include <gtest/gtest.h>

namespace gpc::scenarios {
namespace {

using pfncache::GpcStats;

TEST(CollisionSplit, AnInvalidationInProgressAtTheFailedCheckIsACollision) {
  const GpcStats s;
  EXPECT_TRUE(wait_collided(true, s, s));
  EXPECT_FALSE(wait_collided(false, s, s)) << "nothing in progress and no retry: not collided";
}

TEST(CollisionSplit, ARefreshThatRetriedOrWaitedCollidedToo) {
  const GpcStats before;
  GpcStats retried;
  retried.retries = 1;
  EXPECT_TRUE(wait_collided(false, before, retried));
  GpcStats spun;
  spun.spin_ns = 500;
  EXPECT_TRUE(wait_collided(false, before, spun));
  GpcStats slept;
  slept.sleeps = 1;
  EXPECT_TRUE(wait_collided(false, before, slept));
  GpcStats resolved;  // resolver and map calls alone are every refresh's work
  resolved.hva_to_pfn = 1;
  resolved.maps = 1;
  resolved.wait_ns = 40;  // a wait that found nothing pending still books its check
  EXPECT_FALSE(wait_collided(false, before, resolved));
}

TEST(CollisionSplit, SidesAreKeptApartAndCpuIsPerCollision) {
  CollisionSplit s;
  s.record(100'000, 90'000, true, 0);
  s.record(300'000, 10'000, true, 0);
  s.record(5'000, 5'000, false, 0);
  EXPECT_EQ(s.collided.count(), 2u);
  EXPECT_EQ(s.uncollided.count(), 1u);
  EXPECT_DOUBLE_EQ(s.cpu_ns_per_collision(), 50'000);
  EXPECT_LT(s.corunner_progress_during_waits(), 0) << "no co-runner: no progress figure";
  EXPECT_LT(CollisionSplit{}.cpu_ns_per_collision(), 0);
}

TEST(CollisionSplit, CoRunnerProgressIsItsWorkInsideCollidedWaitsOverItsRateAlone) {
  CollisionSplit a;
  a.corunner_alone_rate = 1e6;         // 1 unit per us alone
  a.record(1'000'000, 0, true, 250);  // 1 ms wait: 1000 units alone, 250 done: 0.25
  a.record(10'000, 0, false, 10);     // uncollided waits do not count
  EXPECT_DOUBLE_EQ(a.corunner_progress_during_waits(), 0.25);
  CollisionSplit b;
  b.corunner_alone_rate = 2e6;
  b.record(1'000'000, 0, true, 2'000);  // unharmed: 1.0
  a.merge(b);
  EXPECT_DOUBLE_EQ(a.corunner_progress_during_waits(), 2'250.0 / 3'000.0);
  EXPECT_EQ(a.collided.count(), 2u);
}

}  // namespace
}  // namespace gpc::scenarios
