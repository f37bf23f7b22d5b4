// `run cache --placement` (issue 14): the three named placements on synthetic topologies,
// refusals with exit-2 errors, and the run-queue rule that says whether a run's placement held.
#include <algorithm>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "scenarios/placement_plan.hpp"

namespace gpc::scenarios {
namespace {

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

TEST(CachePlacement, AloneKeepsEveryOtherThreadOffTheWaitersPu) {
  const Topology t = Topology::synthetic("package:1 core:2 pu:1");
  const CachePlan p = plan_cache_placement(CachePlacement::kAlone, 1, 2, false, false, t);
  ASSERT_EQ(p.pins.vcpu_pus.size(), 1u);
  const int waiter = p.pins.vcpu_pus[0];
  for (int pu : p.pins.invalidator_pus) EXPECT_NE(pu, waiter) << "an invalidator on the waiter's PU";
  EXPECT_TRUE(p.pins.co_runner_pus.empty());
  EXPECT_GE(p.reader_pu, 0) << "the reader must be pinned, or it may land on the waiter's PU";
  EXPECT_NE(p.reader_pu, waiter);
  EXPECT_FALSE(p.pins.overcommitted);
}

TEST(CachePlacement, SharedPutsACoRunnerOnEachWaitersPuOnly) {
  const Topology t = Topology::synthetic("package:1 core:4 pu:1");
  const CachePlan p = plan_cache_placement(CachePlacement::kShared, 2, 1, false, false, t);
  ASSERT_EQ(p.pins.co_runner_pus, p.pins.vcpu_pus);
  for (int pu : p.pins.invalidator_pus) EXPECT_FALSE(contains(p.pins.vcpu_pus, pu));
  EXPECT_FALSE(contains(p.pins.vcpu_pus, p.reader_pu));
}

TEST(CachePlacement, OvercommitPutsTheInvalidatorsOnTheWaitersPuToo) {
  const Topology t = Topology::synthetic("package:1 core:2 pu:1");
  const CachePlan p = plan_cache_placement(CachePlacement::kOvercommit, 1, 2, false, false, t);
  const int waiter = p.pins.vcpu_pus[0];
  EXPECT_EQ(p.pins.co_runner_pus, std::vector<int>{waiter});
  for (int pu : p.pins.invalidator_pus) EXPECT_EQ(pu, waiter);
  EXPECT_TRUE(p.pins.overcommitted);
  EXPECT_NE(p.reader_pu, waiter);
}

TEST(CachePlacement, APlacementTheMachineCannotGiveIsRefusedWithTheReason) {
  const Topology two = Topology::synthetic("package:1 core:2 pu:1");
  try {
    plan_cache_placement(CachePlacement::kAlone, 2, 1, false, false, two);
    FAIL() << "alone with 2 writers on 2 PUs was accepted";
  } catch (const UnavailableError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("needs 3 PUs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--writers 1"), std::string::npos) << msg;
  }
  const Topology one = Topology::synthetic("package:1 core:1 pu:1");
  EXPECT_THROW(plan_cache_placement(CachePlacement::kShared, 1, 1, false, false, one), UnavailableError);
}

TEST(CachePlacement, NamedPlacementsRefuseTheLegacyFlags) {
  const Topology t = Topology::synthetic("package:1 core:2 pu:1");
  EXPECT_THROW(plan_cache_placement(CachePlacement::kAlone, 1, 1, true, false, t), UsageError);
  EXPECT_THROW(plan_cache_placement(CachePlacement::kShared, 1, 1, false, true, t), UsageError);
  EXPECT_NO_THROW(plan_cache_placement(CachePlacement::kLegacy, 1, 1, true, false, t));
}

TEST(CachePlacement, NamesParseAndUnknownOnesListTheValidOnes) {
  EXPECT_EQ(parse_cache_placement(""), CachePlacement::kLegacy);
  EXPECT_EQ(parse_cache_placement("alone"), CachePlacement::kAlone);
  EXPECT_EQ(parse_cache_placement("shared"), CachePlacement::kShared);
  EXPECT_EQ(parse_cache_placement("overcommit"), CachePlacement::kOvercommit);
  try {
    parse_cache_placement("lonely");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("alone"), std::string::npos);
  }
}

TEST(CachePlacement, HeldFollowsTheRunQueueWaitShare) {
  EXPECT_TRUE(placement_held(CachePlacement::kAlone, 0.0));
  EXPECT_TRUE(placement_held(CachePlacement::kAlone, kAloneMaxRunqueueWaitShare));
  EXPECT_FALSE(placement_held(CachePlacement::kAlone, 0.3));
  EXPECT_TRUE(placement_held(CachePlacement::kShared, 0.3));
  EXPECT_FALSE(placement_held(CachePlacement::kShared, 0.0));
  EXPECT_TRUE(placement_held(CachePlacement::kOvercommit, 0.5));
}

}  // namespace
}  // namespace gpc::scenarios
