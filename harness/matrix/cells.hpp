// Expands a matrix into cells: per [[scenario]] block, the cartesian product of its axes
// minus the exclusions. A cell knows its id (the benchmark-name style the scenarios use),
// a file-system-safe slug, and the `gpcbench run` arguments that produce it.
#pragma once

#include <string>
#include <vector>

#include "matrix/matrix_spec.hpp"

namespace gpc::matrix {

struct Cell {
  std::string scenario;
  std::string id;    // "cache/strategy:block/hook:end/invalidator:mremap/co-runner:on"
  std::string slug;  // id made safe for file names: "cache.strategy-block.hook-end..."
  std::vector<std::string> args;  // after `run`: {"cache", "--strategy", "block", ...}
};

// Cells in declaration order. Throws UsageError when two blocks declare the same cell or a
// block's exclusions remove every cell.
std::vector<Cell> expand_cells(const MatrixSpec& spec);

// The identity of a matrix for resume and merge: scenarios, cells, duration, warm-up and
// seed (not the repetitions, which a rerun may raise). A hex string.
std::string matrix_fingerprint(const MatrixSpec& spec, const std::vector<Cell>& cells);

}  // namespace gpc::matrix
