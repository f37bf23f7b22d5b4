// `gpcbench matrix`: runs a declared matrix of scenario cells (harness/matrix/), then the
// report; `--merge` combines the directories of sharded runs.
#include <unistd.h>

#include <algorithm>
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
  bool allow_mixed = false;
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

// `--merge DIR... --out MERGED`: the report is written unless --no-report; exit 1 when the
// merged directory holds a violation or a failed run (as the shards' own runs would).
int merge(const MatrixArgs& args) {
  std::vector<std::filesystem::path> dirs(args.merge.begin(), args.merge.end());
  const auto s = matrix::merge_shards(dirs, args.out, {.allow_mixed = args.allow_mixed});
  std::fprintf(stderr, "matrix: merged %d shards into %s: %d results, %d failure records\n", s.shards,
               args.out.c_str(), s.results, s.failures);
  for (const auto& d : s.mixed)
    std::fprintf(stderr, "matrix: --allow-mixed: %s differs: %s vs %s\n", d.field.c_str(), d.a.c_str(), d.b.c_str());
  const int rc = s.violations > 0 ? kExitFailure : kExitOk;
  if (s.violations > 0)
    std::fprintf(stderr, "matrix: the shards hold %d run(s) with a violation or failure (see %s/failures)\n",
                 s.violations, args.out.c_str());
  return report_or_warn(args.out, rc, args.no_report);
}

// Flags that make no sense together are refused, never silently ignored (issue 15 item 16).
void check_flag_combination(const CLI::App& cmd, const MatrixArgs& args) {
  const bool merging = cmd.count("--merge") > 0;
  const bool no_shard = std::all_of(args.merge.begin(), args.merge.end(), [](const auto& d) { return d.empty(); });
  if (merging && no_shard)
    throw UsageError("--merge needs the shard directories: --merge SHARD_DIR... --out MERGED_DIR");
  if (merging && args.out.empty())
    throw UsageError("--merge needs --out DIR, a new directory for the merged results");
  if (!merging && args.allow_mixed) throw UsageError("--allow-mixed only applies to --merge");
  if (args.out.empty() && !args.dry_run)
    throw UsageError("matrix needs --out DIR, the directory for the results (e.g. --out results/runs/quick-1)");
}

}  // namespace

void add_matrix_verb(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "matrix",
      "Run a declared matrix of scenario cells with repetitions, interleaved in a seeded random order,\n"
      "one result file per cell and repetition, then write the report. Resumable: rerun into the same\n"
      "--out to finish an interrupted matrix. Shard across machines with GPCBENCH_SHARD_INDEX and\n"
      "GPCBENCH_TOTAL_SHARDS (or a Slurm job array's SLURM_ARRAY_TASK_ID), then combine with --merge,\n"
      "which refuses shards from different environments. Format: docs/matrix-format.md.");
  auto args = std::make_shared<MatrixArgs>();
  cmd->add_option("--preset", args->preset, "quick (<= 5 min on 2 cores), full (all axes), or a matrix file")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Result directory (created; an existing one of the same matrix is resumed)")
      ;
  auto* merge_opt = cmd->add_option("--merge", args->merge, "Shard directories to combine into --out (runs nothing)")
                        ->expected(0, -1);
  cmd->add_flag("--allow-mixed", args->allow_mixed,
                "With --merge: merge shards whose environments differ (kernel, CPU, topology, THP, KVM parameters, "
                "gpcbench commit); the report says so at the top");
  cmd->add_flag("--no-report", args->no_report, "Do not write the report at the end");
  auto* dry_run_opt = cmd->add_flag("--dry-run", args->dry_run, "Print the cells and the run order, run nothing");
  cmd->add_option("--runner", args->runner, "Binary run for each cell (default: this gpcbench; or $GPCBENCH_RUNNER)")
      ->group("");  // hidden: for tests
  merge_opt->excludes(dry_run_opt);
  merge_opt->excludes(cmd->get_option("--preset"));
  cmd->callback([cmd, args, &exit_code] {
    check_flag_combination(*cmd, *args);
    if (cmd->count("--merge") > 0) {
      exit_code = merge(*args);
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
