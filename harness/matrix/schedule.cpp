#include "matrix/schedule.hpp"

#include <algorithm>
#include <random>
#include <string>

#include "common/errors.hpp"
#include "matrix/matrix_spec.hpp"

namespace gpc::matrix {
namespace {

// Uniform in [0, n) from the raw 64-bit engine output (no std distribution: portable).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = rng(); while (x >= limit);
  return x % n;
}

}  // namespace

std::vector<size_t> cells_of_shard(size_t num_cells, const Shard& shard) {
  std::vector<size_t> out;
  for (size_t i = 0; i < num_cells; ++i)
    if (static_cast<int>(i % static_cast<size_t>(shard.total)) == shard.index) out.push_back(i);
  return out;
}

std::vector<RunSlot> interleaved_order(const std::vector<size_t>& cells, int repetitions, uint64_t seed) {
  if (repetitions > 0 && cells.size() > kMaxRuns / static_cast<size_t>(repetitions))
    throw UsageError(std::to_string(cells.size()) + " cells x " + std::to_string(repetitions) +
                     " repetitions is more than " + std::to_string(kMaxRuns) +
                     " runs (the limit); lower [matrix] repetitions, shorten an axis, or shard the matrix");
  std::vector<RunSlot> order;
  order.reserve(cells.size() * static_cast<size_t>(std::max(repetitions, 0)));
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
