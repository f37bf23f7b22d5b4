#include "scenarios/run_options.hpp"

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
