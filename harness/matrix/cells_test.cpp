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

// Issue 14: placement is a cache axis, between the legacy flags and the reader, as in the
// record names `run cache` writes; an unknown placement is caught before anything runs.
TEST(Cells, PlacementIsACacheAxisBeforeTheReader) {
  const auto cells = expand_cells(parse_matrix(R"(
[[scenario]]
name = "cache"
[scenario.axes]
strategy = "block"
hold = "10us"
placement = ["alone", "shared", "overcommit"]
reader = "host"
)", "m.toml"));
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].id, "cache/strategy:block/hold:10us/placement:alone/reader:host");
  EXPECT_EQ(cells[2].args, (std::vector<std::string>{"cache", "--strategy", "block", "--hold", "10us", "--placement",
                                                     "overcommit", "--reader", "host"}));
  EXPECT_THROW(parse_matrix("[[scenario]]\nname = \"cache\"\n[scenario.axes]\nplacement = \"lonely\"\n", "m.toml"),
               UsageError);
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

// Issue 14 item 7: quick = alone and shared x the 4 strategies x hook=start (the default),
// one collision rate and two holds, plus the pvclock cell for the model-fidelity line.
TEST(Cells, QuickPresetCoversTheAnswersConditions) {
  const auto cells = expand_cells(parse_matrix_file(std::filesystem::path(GPC_SOURCE_DIR) / "results/presets/quick.toml"));
  int cache = 0, pvclock = 0;
  std::set<std::string> placements, strategies, holds;
  for (const auto& c : cells) {
    if (c.scenario != "cache") {
      ++pvclock;
      continue;
    }
    ++cache;
    EXPECT_EQ(c.id.find("/hook:"), std::string::npos) << c.id << ": quick runs hook=start (the default) only";
    EXPECT_NE(c.id.find("/rate:1000/"), std::string::npos) << c.id;
    for (const char* axis : {"/placement:", "/strategy:", "/hold:"}) {
      const size_t at = c.id.find(axis);
      ASSERT_NE(at, std::string::npos) << c.id;
      const size_t from = at + std::string(axis).size();
      const std::string value = c.id.substr(from, c.id.find('/', from) - from);
      (axis[1] == 'p' ? placements : axis[1] == 's' ? strategies : holds).insert(value);
    }
  }
  EXPECT_EQ(cache, 16);
  EXPECT_EQ(pvclock, 1);
  EXPECT_EQ(placements, (std::set<std::string>{"alone", "shared"}));
  EXPECT_EQ(strategies, (std::set<std::string>{"busy", "spin", "haltpoll", "block"}));
  EXPECT_EQ(holds.size(), 2u);
}

}  // namespace
}  // namespace gpc::matrix
