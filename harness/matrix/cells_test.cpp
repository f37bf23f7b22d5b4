#include "matrix/cells.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace {

TEST(Cells, CartesianProductWithFlagsAndOmittedValues) {
  const auto cells = expand_cells(parse_matrix(R"(
[[scenario]]
name = "cache"
[scenario.axes]
strategy = ["busy", "block"]
hook = ["start", "end"]
invalidator = "mremap"
co-runner = [false, true]
)", "m.toml"));
  ASSERT_EQ(cells.size(), 8u);
  EXPECT_EQ(cells[0].id, "cache/strategy:busy/hook:start/invalidator:mremap/co-runner:off");
  EXPECT_EQ(cells[0].args, (std::vector<std::string>{"cache", "--strategy", "busy", "--hook", "start", "--invalidator", "mremap"}));
  EXPECT_EQ(cells[1].args.back(), "--co-runner");
  EXPECT_EQ(cells[7].id, "cache/strategy:block/hook:end/invalidator:mremap/co-runner:on");
  EXPECT_EQ(cells[7].slug, "cache.strategy-block.hook-end.invalidator-mremap.co-runner-on");
  std::set<std::string> ids;
  for (const auto& c : cells) ids.insert(c.id);
  EXPECT_EQ(ids.size(), 8u);
}

TEST(Cells, ExclusionsRemoveMatchingCellsOnly) {
  const auto cells = expand_cells(parse_matrix(R"(
[[scenario]]
name = "pvclock"
[scenario.axes]
invalidator = [false, "mremap", "zap"]
target = ["cache", "neighbour", "unrelated"]
[[scenario.exclude]]
invalidator = false
target = ["neighbour", "unrelated"]
)", "m.toml"));
  ASSERT_EQ(cells.size(), 7u);  // 9 - 2
  EXPECT_EQ(cells[0].id, "pvclock/invalidator:off/target:cache");
  EXPECT_EQ(cells[0].args, (std::vector<std::string>{"pvclock", "--target", "cache"}));
  for (const auto& c : cells)
    EXPECT_FALSE(c.id.find("invalidator:off") != std::string::npos && c.id.find("target:cache") == std::string::npos) << c.id;
}

TEST(Cells, DuplicateCellsAcrossBlocksAreAnError) {
  const auto spec = parse_matrix(R"(
[[scenario]]
name = "cache"
[scenario.axes]
strategy = ["busy", "block"]
[[scenario]]
name = "cache"
[scenario.axes]
strategy = "block"
)", "m.toml");
  try {
    expand_cells(spec);
    FAIL() << "duplicate accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("m.toml:6:1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("already declared by the block at m.toml:2:1"), std::string::npos) << e.what();
  }
}

TEST(Cells, ExcludingEverythingIsAnError) {
  EXPECT_THROW(expand_cells(parse_matrix("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nstrategy = \"block\"\n"
                                         "[[scenario.exclude]]\nstrategy = \"block\"\n", "m.toml")),
               UsageError);
}

TEST(Cells, FingerprintIgnoresRepetitionsButNotCellsOrSeed) {
  auto a = parse_matrix("[matrix]\nrepetitions = 5\n[[scenario]]\nname = \"pvclock\"\n", "m.toml");
  auto b = parse_matrix("[matrix]\nrepetitions = 9\n[[scenario]]\nname = \"pvclock\"\n", "m.toml");
  auto c = parse_matrix("[matrix]\nseed = 2\n[[scenario]]\nname = \"pvclock\"\n", "m.toml");
  auto d = parse_matrix("[[scenario]]\nname = \"pvclock\"\n[scenario.axes]\nvcpus = 2\n", "m.toml");
  const auto fp = [](const MatrixSpec& s) { return matrix_fingerprint(s, expand_cells(s)); };
  EXPECT_EQ(fp(a), fp(b));
  EXPECT_NE(fp(a), fp(c));
  EXPECT_NE(fp(a), fp(d));
}

TEST(Cells, QuickPresetCoversEveryStrategyAndHook) {
  const auto cells = expand_cells(parse_matrix_file(std::filesystem::path(GPC_SOURCE_DIR) / "results/presets/quick.toml"));
  int cache = 0, pvclock = 0;
  for (const auto& c : cells) (c.scenario == "cache" ? cache : pvclock)++;
  EXPECT_EQ(cache, 8);
  EXPECT_EQ(pvclock, 2);
}

}  // namespace
}  // namespace gpc::matrix
