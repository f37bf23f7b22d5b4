// Runs a matrix: one subprocess per cell and repetition (`RUNNER run SCENARIO ... --json F`),
// in the seeded interleaved order, with a warm-up run per cell, bounded by duration + grace,
// resumable and shardable. Directory layout (docs/matrix-format.md):
//   DIR/matrix.toml       the matrix as given          DIR/matrix.json   cells, order, shard
//   DIR/environment.json  gpc::capture_environment()   DIR/status.json   every run's outcome
//   DIR/runs/<cell-slug>.rep<k>.json   one result file per cell and repetition
//   DIR/failures/<cell-slug>.rep<k>.json   why a run failed   DIR/logs/...   run output
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "matrix/cells.hpp"
#include "matrix/matrix_spec.hpp"
#include "matrix/schedule.hpp"

namespace gpc::matrix {

struct ExecutorOptions {
  std::filesystem::path out_dir;
  std::filesystem::path runner;   // the gpcbench binary (or a test stand-in)
  Shard shard;
  std::FILE* progress = stderr;
  bool tty = false;               // draw a bar instead of printing lines
};

enum class RunStatus { kOk, kViolation, kFailed, kTimedOut, kUnavailable, kInterrupted, kDoneBefore };
const char* to_string(RunStatus s);

struct RunOutcome {
  std::string cell;
  int repetition = 0;
  RunStatus status = RunStatus::kOk;
  std::string detail;   // exit status and the end of the run's output for failures
  double seconds = 0;
};

struct MatrixOutcome {
  int planned = 0;       // runs assigned to this shard
  int done_before = 0;   // finished by an earlier invocation (resume)
  int violations_before = 0;  // of those, how many recorded a violation (failures/)
  int ok = 0, violations = 0, failed = 0, unavailable = 0;
  bool interrupted = false;
  std::vector<RunOutcome> runs;  // in execution order
  // 128 + signal when interrupted (130 SIGINT, 143 SIGTERM); 1 on a violation or failure,
  // including a violation an earlier invocation recorded; 2 when nothing could run; else 0.
  int exit_code() const;
};

std::filesystem::path result_path(const std::filesystem::path& dir, const Cell& cell, int repetition);
std::filesystem::path failure_path(const std::filesystem::path& dir, const Cell& cell, int repetition);

// "2s" / "150ms" / "20us": a duration in the largest unit that represents it exactly.
std::string duration_arg(Nanos d);

MatrixOutcome run_matrix(const MatrixSpec& spec, const ExecutorOptions& options);

}  // namespace gpc::matrix
