// Combines the result directories of shards (one matrix run in parts on several machines or
// Slurm array tasks) into one directory that `report` and `compare` read.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "matrix/environment_match.hpp"

namespace gpc::matrix {

struct MergeOptions {
  // Merge shards whose environments differ (environment_match.hpp); matrix.json then lists
  // the differences under "mixed_environment" and the report says so at the top.
  bool allow_mixed = false;
};

struct MergeSummary {
  int shards = 0;
  int results = 0;     // result files copied
  int failures = 0;    // failure records copied (every one: violations, failed runs, timeouts)
  int violations = 0;  // of those, how many record a violation or a failed run
  std::vector<EnvDifference> mixed;  // differences accepted by allow_mixed
};

// Refuses (UsageError naming the problem and the fix): no shard; a shard that is not a matrix
// directory or whose matrix.json is malformed; the same directory or the same shard index
// given twice; shards of different matrices; shards from different environments (unless
// allow_mixed); two different results of one run; an --out that exists and is not empty.
// On any error, nothing is left in `out`.
MergeSummary merge_shards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& out,
                          const MergeOptions& options = {});

}  // namespace gpc::matrix
