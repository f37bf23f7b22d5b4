// Which part of a matrix this invocation runs: from our own variables, Google Test's, or a
// Slurm job array's (docs/matrix-format.md, "Sharding"). The source is recorded in matrix.json
// so a merged directory says how each shard was chosen.
#pragma once

#include <functional>
#include <string>

namespace gpc::matrix {

struct Shard {
  int index = 0;
  int total = 1;
  // The variables the shard came from, e.g. "SLURM_ARRAY_TASK_ID=3 (min 1, count 4)";
  // "none" when the whole matrix runs.
  std::string source = "none";
};

// Returns the value of an environment variable, nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;

// In this order, the first that is set wins:
//   GPCBENCH_SHARD_INDEX / GPCBENCH_TOTAL_SHARDS
//   GTEST_SHARD_INDEX / GTEST_TOTAL_SHARDS
//   SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (and _MIN, _MAX, _STEP when set):
//     index = (ID - MIN) / STEP, total = COUNT, so `--array=1-8` and `--array=0-7` both
//     give shards 0..7 of 8.
// else the whole matrix. Throws UsageError naming the variable for a half-set, malformed or
// out-of-range value, and for an array whose ids are not an evenly spaced range.
Shard shard_from(const EnvLookup& env);
Shard shard_from_environment();

}  // namespace gpc::matrix
