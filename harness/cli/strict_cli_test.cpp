#include "cli/strict_cli.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gpc::cli {
namespace {

// A small stand-in for gpcbench's command tree: verbs, a `run` with scenarios, flags.
struct Tree {
  CLI::App app{"t", "gpcbench"};
  uint64_t seed = 1;
  int writers = 1;
  double threshold = 5;
  Tree() {
    app.require_subcommand(1);
    app.add_subcommand("info", "info");
    auto* run = app.add_subcommand("run", "run");
    run->require_subcommand(1);
    auto* cache = run->add_subcommand("cache", "cache");
    run->add_subcommand("pvclock", "pvclock");
    cache->add_option("--seed", seed, "seed");
    cache->add_option("--writers", writers, "writers");
    cache->add_option("--threshold", threshold, "threshold")->check(CLI::Range(0.0, 1000.0));  // NaN passes Range
    make_numbers_strict(app);
  }
  // "" when the parse succeeds, else the explained error.
  std::string parse(std::vector<std::string> args) {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      return explain_parse_error(app, e);
    }
    return "";
  }
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(StrictCli, UnknownVerbScenarioAndFlagAreNamedWithTheValidOnes) {
  const std::string verb = Tree().parse({"frobnicate"});
  EXPECT_TRUE(has(verb, "unknown verb 'frobnicate'")) << verb;
  EXPECT_TRUE(has(verb, "info, run")) << verb;
  const std::string scenario = Tree().parse({"run", "cach"});
  EXPECT_TRUE(has(scenario, "unknown scenario 'cach' (did you mean 'cache'?)")) << scenario;
  EXPECT_TRUE(has(scenario, "cache, pvclock")) << scenario;
  const std::string flag = Tree().parse({"run", "cache", "--bogus"});
  EXPECT_TRUE(has(flag, "unknown flag '--bogus' for 'gpcbench run cache'")) << flag;
  EXPECT_TRUE(has(flag, "--seed")) << flag;
  EXPECT_TRUE(has(Tree().parse({"run"}), "'gpcbench run' needs a scenario: one of cache, pvclock"));
  EXPECT_TRUE(has(Tree().parse({}), "'gpcbench' needs a verb"));
  // The flag belongs to the top level here, not to the verb after it.
  const std::string top = Tree().parse({"--seed", "1", "info"});
  EXPECT_TRUE(has(top, "unknown flag '--seed' for 'gpcbench';")) << top;
  EXPECT_TRUE(has(Tree().parse({"INFO"}), "did you mean 'info'?"));
}

TEST(StrictCli, IntegersAreDecimalAndInRange) {
  EXPECT_EQ(Tree().parse({"run", "cache", "--seed", "18446744073709551615"}), "");
  for (const char* bad : {"-1", "18446744073709551616", "5x", "0x10", " 5", "+5", ""})
    EXPECT_TRUE(has(Tree().parse({"run", "cache", "--seed", bad}), "--seed")) << bad;
  EXPECT_TRUE(has(Tree().parse({"run", "cache", "--seed", "-1"}), "0 to 18446744073709551615"));
  Tree t;
  EXPECT_EQ(t.parse({"run", "cache", "--writers", "010"}), "");
  EXPECT_EQ(t.writers, 10) << "010 is decimal ten, not octal";
  EXPECT_EQ(Tree().parse({"run", "cache", "--writers", "-2147483648"}), "");
  EXPECT_TRUE(has(Tree().parse({"run", "cache", "--writers", "2147483648"}), "-2147483648 to 2147483647"));
}

TEST(StrictCli, FloatsAreFinite) {
  EXPECT_EQ(Tree().parse({"run", "cache", "--threshold", "2.5e1"}), "");
  for (const char* bad : {"nan", "inf", "-inf", "1e999", "0x1p3", "5%"})
    EXPECT_TRUE(has(Tree().parse({"run", "cache", "--threshold", bad}), "finite")) << bad;
}

TEST(StrictCli, ClosestWordAllowsTwoEdits) {
  EXPECT_EQ(closest_word("pvclok", {"cache", "pvclock"}), "pvclock");
  EXPECT_EQ(closest_word("zzzzzz", {"cache", "pvclock"}), "");
}

}  // namespace
}  // namespace gpc::cli
