#include "scenarios/run_options.hpp"

#include <set>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "scenarios/scenario_registry.hpp"

namespace gpc::scenarios {
namespace {

TEST(RunOptions, ParsesDurationAndKeepsTheText) {
  RunOptions o;
  o.duration_text = "250ms";
  finalize_run_options(o);
  EXPECT_EQ(o.duration, std::chrono::milliseconds(250));
  const auto run = run_context("pvclock", o, {{"vcpus", 2}});
  EXPECT_EQ(run["scenario"], "pvclock");
  EXPECT_EQ(run["duration_ns"], 250'000'000);
  EXPECT_EQ(run["duration"], "250ms");
  EXPECT_EQ(run["seed"], 1);
  EXPECT_EQ(run["vcpus"], 2);
}

TEST(RunOptions, RejectsBadAndZeroDurations) {
  RunOptions o;
  o.duration_text = "3 parsecs";
  EXPECT_THROW(finalize_run_options(o), UsageError);
  o.duration_text = "0s";
  EXPECT_THROW(finalize_run_options(o), UsageError);
}

TEST(RunOptions, CommandLineFlags) {
  CLI::App app;
  RunOptions o;
  add_run_options(app, o);
  app.parse(std::vector<std::string>{"--quiet", "out.json", "--json", "7", "--seed", "2s", "--duration"});
  finalize_run_options(o);
  EXPECT_EQ(o.duration, std::chrono::seconds(2));
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(o.json_path, "out.json");
  EXPECT_TRUE(o.quiet);
}

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

TEST(ScenarioRegistry, RunNeedsOneScenario) {
  CLI::App app;
  int exit_code = 0;
  auto* run = app.add_subcommand("run");
  run->require_subcommand(1);
  register_scenarios(*run, exit_code);
  EXPECT_THROW(app.parse(std::vector<std::string>{"run"}), CLI::ParseError);
  EXPECT_NE(run->get_subcommand("pvclock"), nullptr);
  EXPECT_NE(run->get_subcommand("pingpong"), nullptr);
}

}  // namespace
}  // namespace gpc::scenarios
