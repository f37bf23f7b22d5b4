#include "matrix/shard.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/errors.hpp"
#include "matrix/schedule.hpp"

namespace gpc::matrix {
namespace {

// A fake environment: only the listed variables are set.
EnvLookup env_of(std::map<std::string, std::string> vars) {
  auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [held](const char* name) -> const char* {
    auto it = held->find(name);
    return it == held->end() ? nullptr : it->second.c_str();
  };
}

std::map<std::string, std::string> slurm_task(int id, int min, int max, int count, int step = 1) {
  return {{"SLURM_ARRAY_TASK_ID", std::to_string(id)}, {"SLURM_ARRAY_TASK_MIN", std::to_string(min)},
          {"SLURM_ARRAY_TASK_MAX", std::to_string(max)}, {"SLURM_ARRAY_TASK_COUNT", std::to_string(count)},
          {"SLURM_ARRAY_TASK_STEP", std::to_string(step)}};
}

TEST(Shard, NoVariablesRunsTheWholeMatrix) {
  const Shard s = shard_from(env_of({}));
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.total, 1);
  EXPECT_EQ(s.source, "none");
}

TEST(Shard, SlurmArrayStartingAtZero) {
  const Shard s = shard_from(env_of(slurm_task(2, 0, 3, 4)));
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.total, 4);
  EXPECT_NE(s.source.find("SLURM_ARRAY_TASK_ID=2"), std::string::npos) << s.source;
}

TEST(Shard, SlurmArrayStartingAtOneMapsTheFirstTaskToShardZero) {
  EXPECT_EQ(shard_from(env_of(slurm_task(1, 1, 4, 4))).index, 0);
  EXPECT_EQ(shard_from(env_of(slurm_task(4, 1, 4, 4))).index, 3);
  EXPECT_EQ(shard_from(env_of(slurm_task(4, 1, 4, 4))).total, 4);
}

TEST(Shard, SlurmArrayWithAStep) {  // --array=1-7:2 is tasks 1, 3, 5, 7
  EXPECT_EQ(shard_from(env_of(slurm_task(5, 1, 7, 4, 2))).index, 2);
}

TEST(Shard, SlurmWithoutMinMaxOrStepAssumesZeroBased) {
  const Shard s = shard_from(env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "5"}}));
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.total, 5);
}

TEST(Shard, SlurmTasksOfACountThatDoesNotDivideTheCellsCoverEveryCellOnce) {
  // 23 cells over --array=1-4: every cell in exactly one task, shard sizes differ by at most one.
  std::map<size_t, int> owner;
  std::set<size_t> sizes;
  for (int id = 1; id <= 4; ++id) {
    const Shard s = shard_from(env_of(slurm_task(id, 1, 4, 4)));
    const auto mine = cells_of_shard(23, s);
    sizes.insert(mine.size());
    for (size_t c : mine) EXPECT_TRUE(owner.emplace(c, id).second) << "cell " << c << " in two tasks";
  }
  EXPECT_EQ(owner.size(), 23u);
  EXPECT_EQ(sizes, (std::set<size_t>{5, 6}));
}

TEST(Shard, OurVariablesWinOverGtestAndSlurm) {
  auto vars = slurm_task(1, 1, 4, 4);
  vars["GTEST_SHARD_INDEX"] = "1";
  vars["GTEST_TOTAL_SHARDS"] = "3";
  EXPECT_EQ(shard_from(env_of(vars)).total, 3);
  EXPECT_NE(shard_from(env_of(vars)).source.find("GTEST_SHARD_INDEX=1"), std::string::npos);
  vars["GPCBENCH_SHARD_INDEX"] = "0";
  vars["GPCBENCH_TOTAL_SHARDS"] = "2";
  EXPECT_EQ(shard_from(env_of(vars)).total, 2);
}

void expect_usage_error(const std::map<std::string, std::string>& vars, const std::string& names) {
  try {
    shard_from(env_of(vars));
    ADD_FAILURE() << "accepted; expected an error naming " << names;
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
  }
}

TEST(Shard, RejectsSlurmArraysThatDoNotMapToShards) {
  expect_usage_error({{"SLURM_ARRAY_TASK_ID", "3"}}, "SLURM_ARRAY_TASK_COUNT");
  expect_usage_error(slurm_task(5, 1, 9, 3), "evenly spaced");  // --array=1,5,9 reported as step 1
  expect_usage_error(slurm_task(0, 1, 4, 4), "SLURM_ARRAY_TASK_ID=0 is not one of");
  expect_usage_error(slurm_task(2, 1, 7, 4, 2), "SLURM_ARRAY_TASK_ID=2 is not one of");
  expect_usage_error({{"SLURM_ARRAY_TASK_ID", "-1"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}, "SLURM_ARRAY_TASK_ID='-1'");
}

TEST(Shard, RejectsBadPairs) {
  expect_usage_error({{"GPCBENCH_SHARD_INDEX", "2"}}, "set both GPCBENCH_SHARD_INDEX and GPCBENCH_TOTAL_SHARDS");
  expect_usage_error({{"GPCBENCH_SHARD_INDEX", "2"}, {"GPCBENCH_TOTAL_SHARDS", "2"}}, "must be below");
  expect_usage_error({{"GPCBENCH_SHARD_INDEX", "x"}, {"GPCBENCH_TOTAL_SHARDS", "2"}}, "GPCBENCH_SHARD_INDEX='x'");
  expect_usage_error({{"GTEST_SHARD_INDEX", "0"}, {"GTEST_TOTAL_SHARDS", "99999999999"}}, "GTEST_TOTAL_SHARDS=");
}

}  // namespace
}  // namespace gpc::matrix
