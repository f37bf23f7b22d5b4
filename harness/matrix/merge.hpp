// Combines the result directories of shards (GPCBENCH_SHARD_INDEX/TOTAL_SHARDS runs of one
// matrix on several machines) into one directory that `report` and `compare` read.
#pragma once

#include <filesystem>
#include <vector>

namespace gpc::matrix {

struct MergeSummary {
  int shards = 0;
  int results = 0;   // result files copied
  int failures = 0;  // failure records copied (runs no shard finished)
};

// Every shard must hold a matrix.json with the same fingerprint. A result present in two
// shards with different content is an error (the same run measured twice). Throws UsageError.
MergeSummary merge_shards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& out);

}  // namespace gpc::matrix
