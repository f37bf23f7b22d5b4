#include "matrix/schedule.hpp"

#include <cstdlib>
#include <random>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace {

bool read_int_env(const char* name, int& out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return false;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 0 || n > 1'000'000)
    throw UsageError(std::string(name) + "='" + v + "' is not a non-negative integer");
  out = static_cast<int>(n);
  return true;
}

// Uniform in [0, n) from the raw 64-bit engine output (no std distribution: portable).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = rng(); while (x >= limit);
  return x % n;
}

}  // namespace

Shard shard_from_environment() {
  for (const auto& [index_var, total_var] :
       {std::pair{"GPCBENCH_SHARD_INDEX", "GPCBENCH_TOTAL_SHARDS"},
        std::pair{"GTEST_SHARD_INDEX", "GTEST_TOTAL_SHARDS"}}) {
    Shard s;
    const bool has_index = read_int_env(index_var, s.index);
    const bool has_total = read_int_env(total_var, s.total);
    if (!has_index && !has_total) continue;
    if (has_index != has_total)
      throw UsageError(std::string("set both ") + index_var + " and " + total_var + ", or neither");
    if (s.total < 1 || s.index >= s.total)
      throw UsageError(std::string(index_var) + "=" + std::to_string(s.index) + " must be below " +
                       total_var + "=" + std::to_string(s.total) + " (and the total at least 1)");
    return s;
  }
  return {};
}

std::vector<size_t> cells_of_shard(size_t num_cells, const Shard& shard) {
  std::vector<size_t> out;
  for (size_t i = 0; i < num_cells; ++i)
    if (static_cast<int>(i % static_cast<size_t>(shard.total)) == shard.index) out.push_back(i);
  return out;
}

std::vector<RunSlot> interleaved_order(const std::vector<size_t>& cells, int repetitions, uint64_t seed) {
  std::vector<RunSlot> order;
  for (int r = 0; r < repetitions; ++r) {
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(r)};
    std::mt19937_64 rng(seq);
    std::vector<size_t> round = cells;
    for (size_t i = round.size(); i > 1; --i) std::swap(round[i - 1], round[uniform_below(rng, i)]);
    for (size_t c : round) order.push_back({c, r});
  }
  return order;
}

}  // namespace gpc::matrix
