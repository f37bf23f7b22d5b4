#include "topology/placement.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace gpc {
namespace {

using V = std::vector<int>;

TEST(Placement, DistinctCoresBeforeSiblings) {
  auto t = Topology::synthetic("core:4 pu:2");  // core c = PUs {2c, 2c+1}
  auto p = plan_placement(t, {.vcpus = 2, .invalidators = 2});
  EXPECT_EQ(p.vcpu_pus, (V{0, 2}));
  EXPECT_EQ(p.invalidator_pus, (V{4, 6}));
  EXPECT_FALSE(p.uses_smt);
  EXPECT_FALSE(p.overcommitted);
  EXPECT_TRUE(p.co_runner_pus.empty());
  EXPECT_EQ(p.describe(), "vCPU0->PU0 vCPU1->PU2 invalidator0->PU4 invalidator1->PU6 (NUMA node 0)");
}

TEST(Placement, SiblingsWhenCoresRunOut) {
  auto t = Topology::synthetic("core:2 pu:2");
  auto p = plan_placement(t, {.vcpus = 2, .invalidators = 1});
  EXPECT_EQ(p.vcpu_pus, (V{0, 2}));
  EXPECT_EQ(p.invalidator_pus, (V{1}));
  EXPECT_TRUE(p.uses_smt);
  EXPECT_FALSE(p.overcommitted);
}

TEST(Placement, AllowSmtPacksSiblings) {
  auto t = Topology::synthetic("core:2 pu:2(indexes=0,2,1,3)");
  auto p = plan_placement(t, {.vcpus = 1, .invalidators = 1, .allow_smt = true});
  EXPECT_EQ(p.vcpu_pus, (V{0}));
  EXPECT_EQ(p.invalidator_pus, (V{2}));  // PU 0's sibling
  EXPECT_TRUE(p.uses_smt);
}

TEST(Placement, CoRunnerSharesItsVcpusPuAndConsumesNone) {
  auto t = Topology::synthetic("core:2 pu:1");
  auto p = plan_placement(t, {.vcpus = 1, .invalidators = 1, .co_runners = true});
  EXPECT_EQ(p.vcpu_pus, (V{0}));
  EXPECT_EQ(p.invalidator_pus, (V{1}));
  EXPECT_EQ(p.co_runner_pus, (V{0}));
  EXPECT_FALSE(p.overcommitted);
  EXPECT_NE(p.describe().find("co-runner0->PU0"), std::string::npos) << p.describe();
}

TEST(Placement, TooManyThreadsNamesTheCounts) {
  auto t = Topology::synthetic("core:2 pu:1");
  try {
    plan_placement(t, {.vcpus = 2, .invalidators = 1});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "3 threads (2 vCPUs + 1 invalidator) need 3 PUs; this machine has 2; "
                 "pass --overcommit or use fewer");
  }
}

TEST(Placement, OvercommitWrapsAround) {
  auto t = Topology::synthetic("core:2 pu:1");
  auto p = plan_placement(t, {.vcpus = 2, .invalidators = 2, .overcommit = true});
  EXPECT_EQ(p.vcpu_pus, (V{0, 1}));
  EXPECT_EQ(p.invalidator_pus, (V{0, 1}));
  EXPECT_TRUE(p.overcommitted);
  EXPECT_FALSE(p.uses_smt);
  EXPECT_NE(p.describe().find("overcommitted"), std::string::npos);
}

TEST(Placement, StaysOnOneNumaNode) {
  auto t = Topology::synthetic("pack:2 numa:1 core:2 pu:2");  // node 0: PUs 0-3, node 1: 4-7
  auto p = plan_placement(t, {.vcpus = 2, .invalidators = 1});
  EXPECT_EQ(p.vcpu_pus, (V{0, 2}));
  EXPECT_EQ(p.invalidator_pus, (V{1}));  // a sibling on node 0, not a core on node 1
  EXPECT_TRUE(p.uses_smt);
  EXPECT_EQ(p.numa_nodes, (V{0}));
}

TEST(Placement, RequestedNumaNode) {
  auto t = Topology::synthetic("numa:2 core:2 pu:2");
  auto p = plan_placement(t, {.vcpus = 2, .numa_node = 1});
  EXPECT_EQ(p.vcpu_pus, (V{4, 6}));
  EXPECT_EQ(p.numa_nodes, (V{1}));
  EXPECT_THROW(plan_placement(t, {.vcpus = 1, .numa_node = 2}), UsageError);
}

TEST(Placement, NodeTooSmallNamesTheNode) {
  auto t = Topology::synthetic("numa:2 core:2 pu:1");
  try {
    plan_placement(t, {.vcpus = 3});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("NUMA node 0 of this machine has 2"), std::string::npos)
        << e.what();
  }
}

TEST(Placement, SpanningNodesWhenAsked) {
  auto t = Topology::synthetic("numa:2 core:2 pu:1");
  auto p = plan_placement(t, {.vcpus = 3, .span_numa_nodes = true});
  EXPECT_EQ(p.vcpu_pus, (V{0, 1, 2}));
  EXPECT_EQ(p.numa_nodes, (V{0, 1}));
  EXPECT_THROW(plan_placement(t, {.vcpus = 1, .numa_node = 0, .span_numa_nodes = true}), UsageError);
}

TEST(Placement, NegativeCountsAreUsageErrors) {
  auto t = Topology::synthetic("core:2 pu:1");
  EXPECT_THROW(plan_placement(t, {.vcpus = -1}), UsageError);
}

TEST(Placement, RealMachinePlanFitsOrNamesTheShortfall) {
  const auto& t = Topology::system();
  auto p = plan_placement(t, {.vcpus = 1, .invalidators = t.cores() - 1});
  EXPECT_FALSE(p.uses_smt);
  EXPECT_FALSE(p.overcommitted);
  EXPECT_THROW(plan_placement(t, {.vcpus = t.pus() + 1}), UsageError);
}

}  // namespace
}  // namespace gpc
