// Which runs happen, on which machine, in which order. Cells are interleaved: every
// repetition round runs each cell once, in a fresh seeded random order, so slow drift
// (thermal, frequency, background load) spreads over all cells instead of biasing the
// ones that happened to run last.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "matrix/shard.hpp"

namespace gpc::matrix {

// Cells assigned to `shard`: cell i goes to shard i % total. A cell's repetitions stay on one
// machine, so its samples are comparable with each other.
std::vector<size_t> cells_of_shard(size_t num_cells, const Shard& shard);

struct RunSlot {
  size_t cell = 0;       // index into the expanded cell list
  int repetition = 0;    // 0-based
  bool operator==(const RunSlot&) const = default;
};

// Round r (r = 0..repetitions-1) is a permutation of `cells` drawn from mt19937_64 seeded
// with (seed, r). Fisher-Yates with rejection sampling on the raw engine output, so the order
// is identical on every standard library.
std::vector<RunSlot> interleaved_order(const std::vector<size_t>& cells, int repetitions, uint64_t seed);

}  // namespace gpc::matrix
