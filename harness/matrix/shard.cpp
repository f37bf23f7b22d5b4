#include "matrix/shard.hpp"

#include <cstdlib>
#include <optional>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace {

constexpr long kMaxShardValue = 1'000'000;  // far above any lab; keeps the arithmetic in int

std::optional<int> read_int(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 0 || n > kMaxShardValue)
    throw UsageError(std::string(name) + "='" + v + "' is not an integer in 0.." + std::to_string(kMaxShardValue));
  return static_cast<int>(n);
}

// A pair of our own or Google Test's variables; nullopt when neither is set.
std::optional<Shard> index_total_pair(const EnvLookup& env, const char* index_var, const char* total_var) {
  const auto index = read_int(env, index_var);
  const auto total = read_int(env, total_var);
  if (!index && !total) return std::nullopt;
  if (!index || !total)
    throw UsageError(std::string("set both ") + index_var + " and " + total_var + ", or neither");
  if (*total < 1 || *index >= *total)
    throw UsageError(std::string(index_var) + "=" + std::to_string(*index) + " must be below " + total_var + "=" +
                     std::to_string(*total) + " (and the total at least 1)");
  return Shard{*index, *total, std::string(index_var) + "=" + std::to_string(*index) + ", " + total_var + "=" +
                                   std::to_string(*total)};
}

// A Slurm job array task (sbatch --array=MIN-MAX[:STEP]); nullopt outside an array.
std::optional<Shard> slurm_array_task(const EnvLookup& env) {
  const auto id = read_int(env, "SLURM_ARRAY_TASK_ID");
  if (!id) return std::nullopt;
  const auto count = read_int(env, "SLURM_ARRAY_TASK_COUNT");
  if (!count || *count < 1)
    throw UsageError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (Slurm sets both in a job array): "
                     "set GPCBENCH_SHARD_INDEX and GPCBENCH_TOTAL_SHARDS instead");
  const int min = read_int(env, "SLURM_ARRAY_TASK_MIN").value_or(0);
  const int step = read_int(env, "SLURM_ARRAY_TASK_STEP").value_or(1);
  const int max = read_int(env, "SLURM_ARRAY_TASK_MAX").value_or(min + (*count - 1) * step);
  const std::string ids = "the array's task ids (min " + std::to_string(min) + ", max " + std::to_string(max) +
                          ", step " + std::to_string(step) + ", count " + std::to_string(*count) + ")";
  // Only an evenly spaced range maps each task to one shard: --array=1,5,9 or a list with gaps
  // would leave shards unrun or run twice.
  if (step < 1 || max < min || (max - min) % step != 0 || (max - min) / step + 1 != *count)
    throw UsageError(ids + " are not an evenly spaced range: submit with --array=0-" + std::to_string(*count - 1) +
                     " (or any A-B[:S]), or set GPCBENCH_SHARD_INDEX and GPCBENCH_TOTAL_SHARDS");
  if (*id < min || *id > max || (*id - min) % step != 0)
    throw UsageError("SLURM_ARRAY_TASK_ID=" + std::to_string(*id) + " is not one of " + ids);
  return Shard{(*id - min) / step, *count,
               "SLURM_ARRAY_TASK_ID=" + std::to_string(*id) + " (min " + std::to_string(min) + ", step " +
                   std::to_string(step) + ", count " + std::to_string(*count) + ")"};
}

}  // namespace

Shard shard_from(const EnvLookup& env) {
  if (auto s = index_total_pair(env, "GPCBENCH_SHARD_INDEX", "GPCBENCH_TOTAL_SHARDS")) return *s;
  if (auto s = index_total_pair(env, "GTEST_SHARD_INDEX", "GTEST_TOTAL_SHARDS")) return *s;
  if (auto s = slurm_array_task(env)) return *s;
  return {};
}

Shard shard_from_environment() {
  return shard_from([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace gpc::matrix
