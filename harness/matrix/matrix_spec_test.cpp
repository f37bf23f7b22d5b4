#include "matrix/matrix_spec.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_matrix(text, "m.toml");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(MatrixSpec, ParsesSettingsAndAxesInScenarioOrder) {
  const auto spec = parse_matrix(R"(
[matrix]
name = "t"
repetitions = 7
duration = "150ms"
warmup = "0s"
grace = "2s"
seed = 42

[[scenario]]
name = "cache"
[scenario.axes]
co-runner = [false, true]
hook = "end"
strategy = ["block", "spin"]
writers = [1, 2]
)", "m.toml");
  EXPECT_EQ(spec.name, "t");
  EXPECT_EQ(spec.repetitions, 7);
  EXPECT_EQ(spec.duration, std::chrono::milliseconds(150));
  EXPECT_EQ(spec.warmup.count(), 0);
  EXPECT_EQ(spec.grace, std::chrono::seconds(2));
  EXPECT_EQ(spec.seed, 42u);
  ASSERT_EQ(spec.scenarios.size(), 1u);
  const auto& axes = spec.scenarios[0].axes;
  ASSERT_EQ(axes.size(), 4u);
  // The contract's axis order, not the file's.
  EXPECT_EQ(axes[0].name, "strategy");
  EXPECT_EQ(axes[1].name, "hook");
  EXPECT_EQ(axes[2].name, "writers");
  EXPECT_EQ(axes[3].name, "co-runner");
  EXPECT_EQ(axes[2].values[1].text, "2");
  EXPECT_EQ(axes[3].values[0].kind, AxisValue::Kind::kFlagOff);
  EXPECT_EQ(axes[3].values[1].label(), "on");
}

TEST(MatrixSpec, DefaultsNameToFileStem) {
  const auto spec = parse_matrix("[[scenario]]\nname = \"pvclock\"\n", "dir/mine.toml");
  EXPECT_EQ(spec.name, "mine");
  EXPECT_EQ(spec.repetitions, 5);
}

TEST(MatrixSpec, SyntaxErrorNamesFileLineAndColumn) {
  const std::string e = error_of("[matrix]\nrepetitions = 5\nduration = \"3s\n");
  EXPECT_NE(e.find("m.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid TOML"), std::string::npos) << e;
}

TEST(MatrixSpec, UnknownAxisNamesLineAndTheKnownAxes) {
  const std::string e = error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nstrategy = \"block\"\nstrat = [\"x\"]\n");
  EXPECT_NE(e.find("m.toml:5:1"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown axis 'strat'"), std::string::npos) << e;
  EXPECT_NE(e.find("strategy"), std::string::npos) << e;
}

TEST(MatrixSpec, EmptyListIsAnError) {
  const std::string e = error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nstrategy = []\n");
  EXPECT_NE(e.find("m.toml:4:12"), std::string::npos) << e;
  EXPECT_NE(e.find("empty list"), std::string::npos) << e;
}

TEST(MatrixSpec, BadValuesSayWhatWasExpected) {
  EXPECT_NE(error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nstrategy = [\"block\", \"sleep\"]\n").find("m.toml:4:22: axis 'strategy': 'sleep' is not valid; expected one of busy|spin|haltpoll|block"), std::string::npos);
  EXPECT_NE(error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\ninvalidator = \"mremap,bogus\"\n").find("'bogus' is not one"), std::string::npos);
  EXPECT_NE(error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nco-runner = \"yes\"\n").find("is a flag"), std::string::npos);
  EXPECT_NE(error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nstrategy = false\n").find("cannot be omitted"), std::string::npos);
  EXPECT_NE(error_of("[[scenario]]\nname = \"pvclock\"\n[scenario.axes]\nvcpus = [0]\n").find("positive integer"), std::string::npos);
  EXPECT_NE(error_of("[[scenario]]\nname = \"pvclock\"\n[scenario.axes]\nduration = [\"1s\"]\n").find("the matrix sets it"), std::string::npos);
  EXPECT_NE(error_of("[matrix]\nrepetitions = 0\n[[scenario]]\nname = \"pvclock\"\n").find("m.toml:2:15"), std::string::npos);
  EXPECT_NE(error_of("[matrix]\nduration = \"fast\"\n[[scenario]]\nname = \"pvclock\"\n").find("expected a duration"), std::string::npos);
  EXPECT_NE(error_of("[matrix]\nrepetition = 3\n[[scenario]]\nname = \"pvclock\"\n").find("unknown key 'repetition'"), std::string::npos);
}

TEST(MatrixSpec, UnknownScenarioAndMissingScenarios) {
  EXPECT_NE(error_of("[[scenario]]\nname = \"xen\"\n").find("m.toml:2:8: unknown scenario 'xen'; expected one of: cache, pvclock"), std::string::npos);
  EXPECT_NE(error_of("[matrix]\nseed = 1\n").find("declares no [[scenario]]"), std::string::npos);
  EXPECT_NE(error_of("[[scenario]]\n[scenario.axes]\nhook = \"end\"\n").find("needs a name"), std::string::npos);
}

TEST(MatrixSpec, ExclusionsMustMatchDeclaredValues) {
  EXPECT_NE(error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nstrategy = [\"block\", \"spin\"]\n"
                     "[[scenario.exclude]]\nstrategy = \"busy\"\n").find("never matches"), std::string::npos);
  EXPECT_NE(error_of("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nstrategy = [\"block\", \"spin\"]\n"
                     "[[scenario.exclude]]\nhook = \"end\"\n").find("does not vary"), std::string::npos);
}

TEST(MatrixSpec, MissingFileIsAUsageError) {
  EXPECT_THROW(parse_matrix_file("/nonexistent/m.toml"), UsageError);
}

TEST(MatrixSpec, ShippedPresetsParse) {
  for (const char* preset : {"quick", "full"}) {
    const auto spec = parse_matrix_file(std::filesystem::path(GPC_SOURCE_DIR) / "results/presets" / (std::string(preset) + ".toml"));
    EXPECT_EQ(spec.name, preset);
    EXPECT_GE(spec.repetitions, 5) << "fewer than 5 repetitions cannot reach p < 0.01";
  }
}

}  // namespace
}  // namespace gpc::matrix
