// `gpcbench matrix`: runs a declared matrix of scenario cells (harness/matrix/), then the
// report; `--merge` combines the directories of sharded runs.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "cli/verbs.hpp"
#include "common/errors.hpp"
#include "matrix/cells.hpp"
#include "matrix/executor.hpp"
#include "matrix/install_paths.hpp"
#include "matrix/merge.hpp"
#include "matrix/python_tool.hpp"
#include "matrix/schedule.hpp"

namespace gpc::cli {
namespace {

struct MatrixArgs {
  std::string preset = "quick";
  std::string out;
  std::vector<std::string> merge;
  std::string runner;
  bool no_report = false;
  bool dry_run = false;
};

int report_or_warn(const std::string& dir, int matrix_rc, bool no_report) {
  if (no_report) return matrix_rc;
  std::fprintf(stderr, "matrix: writing the report into %s\n", dir.c_str());
  const int rc = matrix::run_python_tool("gpc_report.py", {dir});
  if (rc != 0)
    std::fprintf(stderr, "matrix: the report failed (exit %d); the results are kept in %s: fix the cause above and "
                         "run `gpcbench report %s`\n", rc, dir.c_str(), dir.c_str());
  return matrix_rc != kExitOk ? matrix_rc : rc;
}

void print_plan(const matrix::MatrixSpec& spec, const matrix::Shard& shard) {
  const auto cells = matrix::expand_cells(spec);
  std::printf("matrix %s: %zu cells x %d repetitions, %s per run (+%s warm-up per cell), seed %llu, shard %d/%d\n",
              spec.name.c_str(), cells.size(), spec.repetitions, matrix::duration_arg(spec.duration).c_str(),
              matrix::duration_arg(spec.warmup).c_str(), static_cast<unsigned long long>(spec.seed), shard.index,
              shard.total);
  const auto mine = matrix::cells_of_shard(cells.size(), shard);
  // Lower bound: measured time and warm-ups only (process start, VM setup and report add more).
  const double seconds = mine.size() * (spec.repetitions * std::chrono::duration<double>(spec.duration).count() +
                                        std::chrono::duration<double>(spec.warmup).count());
  std::printf("  %zu cells in this shard, %zu runs, at least %.0f s (%.1f h) of measurement\n", mine.size(),
              mine.size() * spec.repetitions, seconds, seconds / 3600);
  for (const auto& s : matrix::interleaved_order(mine, spec.repetitions, spec.seed)) {
    std::printf("  rep %d  %s  [run", s.repetition, cells[s.cell].id.c_str());
    for (const auto& a : cells[s.cell].args) std::printf(" %s", a.c_str());
    std::printf("]\n");
  }
}

}  // namespace

void add_matrix_verb(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "matrix",
      "Run a declared matrix of scenario cells with repetitions, interleaved in a seeded random order,\n"
      "one result file per cell and repetition, then write the report. Resumable: rerun into the same\n"
      "--out to finish an interrupted matrix. Shard across machines with GPCBENCH_SHARD_INDEX and\n"
      "GPCBENCH_TOTAL_SHARDS, then combine with --merge. Format: docs/matrix-format.md.");
  auto args = std::make_shared<MatrixArgs>();
  cmd->add_option("--preset", args->preset, "quick (<= 5 min on 2 cores), full (all axes), or a matrix file")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Result directory (created; an existing one of the same matrix is resumed)")
      ;
  cmd->add_option("--merge", args->merge, "Shard directories to combine into --out (runs nothing)");
  cmd->add_flag("--no-report", args->no_report, "Do not write the report at the end");
  cmd->add_flag("--dry-run", args->dry_run, "Print the cells and the run order, run nothing");
  cmd->add_option("--runner", args->runner, "Binary run for each cell (default: this gpcbench; or $GPCBENCH_RUNNER)")
      ->group("");  // hidden: for tests
  cmd->callback([args, &exit_code] {
    if (args->out.empty() && !args->dry_run)
      throw UsageError("matrix needs --out DIR, the directory for the results (e.g. --out results/runs/quick-1)");
    if (!args->merge.empty()) {
      std::vector<std::filesystem::path> dirs(args->merge.begin(), args->merge.end());
      const auto s = matrix::merge_shards(dirs, args->out);
      std::fprintf(stderr, "matrix: merged %d shards into %s: %d results, %d failure records\n", s.shards,
                   args->out.c_str(), s.results, s.failures);
      exit_code = report_or_warn(args->out, kExitOk, args->no_report);
      return;
    }
    const auto spec = matrix::parse_matrix_file(matrix::resolve_preset(args->preset));
    const auto shard = matrix::shard_from_environment();
    if (args->dry_run) {
      print_plan(spec, shard);
      exit_code = kExitOk;
      return;
    }
    matrix::ExecutorOptions opt;
    opt.out_dir = args->out;
    opt.shard = shard;
    opt.tty = isatty(STDERR_FILENO) == 1;
    if (!args->runner.empty()) opt.runner = args->runner;
    else if (const char* env = std::getenv("GPCBENCH_RUNNER"); env && *env) opt.runner = env;
    else opt.runner = matrix::self_executable();
    const auto outcome = matrix::run_matrix(spec, opt);
    std::fprintf(stderr, "matrix: %d runs planned: %d ok, %d with violations, %d failed, %d unavailable, %d done before%s\n",
                 outcome.planned, outcome.ok, outcome.violations, outcome.failed, outcome.unavailable,
                 outcome.done_before, outcome.interrupted ? "; interrupted (rerun the same command to resume)" : "");
    if (outcome.interrupted) {
      exit_code = outcome.exit_code();
      return;  // no report for a half-finished matrix: the rerun writes it
    }
    if (outcome.exit_code() == kExitUnusable) {
      std::fprintf(stderr, "matrix: no cell could run on this machine (reasons above); nothing to report\n");
      exit_code = kExitUnusable;
      return;
    }
    exit_code = report_or_warn(args->out, outcome.exit_code(), args->no_report);
  });
}

}  // namespace gpc::cli
