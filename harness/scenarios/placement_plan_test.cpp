// The placement part of the rig: layer K vCPUs get their own PUs, invalidators share the
// rest; the cache plan puts a co-runner on each writer's PU.
#include "scenarios/placement_plan.hpp"

#include <set>

#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace gpc::scenarios {
namespace {

TEST(LayerKPlacement, VcpusGetTheirOwnPusAndInvalidatorsShareTheRest) {
  const Topology t = Topology::synthetic("package:1 core:2 pu:1");
  const Placement p = plan_layer_k(1, 4, {}, t);
  ASSERT_EQ(p.vcpu_pus.size(), 1u);
  ASSERT_EQ(p.invalidator_pus.size(), 4u);
  for (int pu : p.invalidator_pus) EXPECT_NE(pu, p.vcpu_pus[0]) << "an invalidator on the vCPU's PU";
  EXPECT_FALSE(p.overcommitted);
}

TEST(LayerKPlacement, InvalidatorsSpreadOverEveryFreePu) {
  const Topology t = Topology::synthetic("package:1 core:4 pu:1");
  const Placement p = plan_layer_k(1, 3, {}, t);
  std::set<int> pus(p.invalidator_pus.begin(), p.invalidator_pus.end());
  pus.insert(p.vcpu_pus[0]);
  EXPECT_EQ(pus.size(), 4u);
}

TEST(LayerKPlacement, TooManyVcpusIsTheplannersUsageErrorUnlessOvercommitted) {
  const Topology t = Topology::synthetic("package:1 core:2 pu:1");
  EXPECT_THROW(plan_layer_k(3, 0, {}, t), UsageError);
  // two vCPUs fill the machine: no PU is left for an invalidator
  try {
    plan_layer_k(2, 1, {}, t);
    FAIL() << "no error for 2 vCPUs + 1 invalidator on 2 PUs";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--overcommit"), std::string::npos) << e.what();
  }
  PlacementOptions o;
  o.overcommit = true;
  const Placement p = plan_layer_k(2, 1, o, t);
  EXPECT_TRUE(p.overcommitted);
  EXPECT_EQ(p.invalidator_pus.size(), 1u);
  EXPECT_THROW(plan_layer_k(0, 1, o, t), UsageError);
}

TEST(LayerKPlacement, SmtPacksSiblingsFirst) {
  const Topology t = Topology::synthetic("package:1 core:2 pu:2");
  PlacementOptions o;
  const Placement spread = plan_layer_k(2, 0, o, t);
  EXPECT_FALSE(spread.uses_smt);
  o.smt = true;
  const Placement packed = plan_layer_k(2, 0, o, t);
  EXPECT_TRUE(packed.uses_smt);
  const nlohmann::json j = pinning_json(packed);
  EXPECT_EQ(j["vcpus"].size(), 2u);
  EXPECT_TRUE(j["uses_smt"].get<bool>());
  EXPECT_NE(j["describe"].get<std::string>().find("vCPU0->PU"), std::string::npos);
}

TEST(PlacementFlags, ParseOnAScenario) {
  CLI::App app;
  PlacementOptions o;
  add_placement_options(app, o);
  app.parse(std::vector<std::string>{"--overcommit", "--smt"});
  EXPECT_TRUE(o.overcommit);
  EXPECT_TRUE(o.smt);
}

TEST(CachePlacement, CoRunnersShareTheirWritersPuAndOvercommitIsAskedFor) {
  const Topology t = Topology::synthetic("package:1 core:2 pu:1");
  const Placement p = plan_cache(1, 1, true, false, t);
  ASSERT_EQ(p.vcpu_pus.size(), 1u);
  ASSERT_EQ(p.co_runner_pus, p.vcpu_pus);
  EXPECT_NE(p.invalidator_pus.at(0), p.vcpu_pus[0]);
  EXPECT_THROW(plan_cache(2, 1, false, false, t), UsageError);
  EXPECT_TRUE(plan_cache(2, 1, false, true, t).overcommitted);
}

}  // namespace
}  // namespace gpc::scenarios
