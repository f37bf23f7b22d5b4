#include "matrix/schedule.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <numeric>
#include <set>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace {

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(Schedule, EveryRoundRunsEveryCellOnceInShuffledOrder) {
  const auto order = interleaved_order(iota(12), 5, 7);
  ASSERT_EQ(order.size(), 60u);
  for (int r = 0; r < 5; ++r) {
    std::set<size_t> seen;
    for (size_t i = 0; i < 12; ++i) {
      EXPECT_EQ(order[r * 12 + i].repetition, r);
      seen.insert(order[r * 12 + i].cell);
    }
    EXPECT_EQ(seen.size(), 12u);
  }
  // Rounds differ from each other and from declaration order (12! makes a match chance-free).
  auto round = [&](int r) { std::vector<size_t> v; for (size_t i = 0; i < 12; ++i) v.push_back(order[r * 12 + i].cell); return v; };
  EXPECT_NE(round(0), round(1));
  EXPECT_NE(round(0), iota(12));
}

TEST(Schedule, SameSeedSameOrderOtherSeedOtherOrder) {
  EXPECT_EQ(interleaved_order(iota(10), 3, 99), interleaved_order(iota(10), 3, 99));
  EXPECT_NE(interleaved_order(iota(10), 3, 99), interleaved_order(iota(10), 3, 100));
}

TEST(Schedule, OrderIsPinnedAcrossBuilds) {
  // mt19937_64, seed_seq and the shuffle are fully specified by the standard and this file:
  // the order must never change, or a resumed or sharded run would disagree with the order
  // recorded in an older matrix.json.
  std::vector<size_t> cells;
  for (const auto& s : interleaved_order(iota(8), 2, 1)) cells.push_back(s.cell);
  EXPECT_EQ(cells, (std::vector<size_t>{0, 5, 4, 3, 2, 6, 1, 7, 4, 0, 3, 6, 5, 1, 7, 2}));
}

TEST(Schedule, ShardsPartitionTheCellsExactly) {
  for (int total : {1, 2, 3, 7}) {
    std::map<size_t, int> owner;
    for (int i = 0; i < total; ++i)
      for (size_t c : cells_of_shard(23, {i, total})) {
        EXPECT_FALSE(owner.count(c)) << "cell " << c << " in two shards";
        owner[c] = i;
      }
    EXPECT_EQ(owner.size(), 23u) << total << " shards";
  }
}

// The variables themselves are tested in shard_test.cpp; this checks the real environment.
TEST(ShardEnvironment, ReadsTheProcessEnvironment) {
  // gtest_discover_tests may run us sharded; start from a clean slate.
  for (const char* v : {"GPCBENCH_SHARD_INDEX", "GPCBENCH_TOTAL_SHARDS", "GTEST_SHARD_INDEX", "GTEST_TOTAL_SHARDS",
                        "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"}) unsetenv(v);
  EXPECT_EQ(shard_from_environment().total, 1);
  setenv("GPCBENCH_SHARD_INDEX", "1", 1);
  setenv("GPCBENCH_TOTAL_SHARDS", "3", 1);
  EXPECT_EQ(shard_from_environment().index, 1);
  EXPECT_EQ(shard_from_environment().total, 3);
  unsetenv("GPCBENCH_SHARD_INDEX");
  unsetenv("GPCBENCH_TOTAL_SHARDS");
}

}  // namespace
}  // namespace gpc::matrix
