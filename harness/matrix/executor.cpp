#include "matrix/executor.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "env/environment.hpp"
#include "matrix/json_file.hpp"
#include "matrix/manifest.hpp"
#include "matrix/out_dir.hpp"
#include "matrix/child_process.hpp"
#include "matrix/progress.hpp"
#include "results/result_file.hpp"

namespace gpc::matrix {
namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kOk: return "ok";
    case RunStatus::kViolation: return "violation";
    case RunStatus::kFailed: return "failed";
    case RunStatus::kTimedOut: return "timeout";
    case RunStatus::kUnavailable: return "unavailable";
    case RunStatus::kInterrupted: return "interrupted";
    case RunStatus::kDoneBefore: return "done-before";
  }
  return "?";
}

int MatrixOutcome::exit_code() const {
  // The shell's way for a run stopped by a signal: 130 (SIGINT), 143 (SIGTERM).
  if (interrupted) return 128 + (stop_signal() != 0 ? stop_signal() : SIGINT);
  if (violations > 0 || failed > 0 || violations_before > 0) return 1;
  if (ok + violations + done_before == 0 && planned > 0) return 2;
  return 0;
}

fs::path result_path(const fs::path& dir, const Cell& cell, int repetition) {
  return dir / "runs" / (cell.slug + ".rep" + std::to_string(repetition) + ".json");
}

fs::path failure_path(const fs::path& dir, const Cell& cell, int repetition) {
  return dir / "failures" / (cell.slug + ".rep" + std::to_string(repetition) + ".json");
}

std::string duration_arg(Nanos d) {
  const auto ns = d.count();
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

namespace {

bool finished(const fs::path& result) {
  if (!fs::exists(result)) return false;
  try {
    return !read_result_file(result).benchmarks.empty();
  } catch (const UnavailableError&) {
    return false;  // truncated or foreign: run it again
  }
}

// Removes a file of an earlier attempt. Something else under that name (a directory, a FIFO
// someone put there) is refused with the fix, not a raw filesystem error mid-matrix.
void remove_stale(const fs::path& file) {
  std::error_code ec;
  const auto st = fs::symlink_status(file, ec);
  if (!fs::exists(st)) return;
  if (!fs::is_regular_file(st))
    throw UsageError(file.string() + " is not a regular file; remove it (the matrix writes its own file there)");
  fs::remove(file, ec);
  if (ec) throw UnavailableError("cannot remove " + file.string() + ": " + ec.message());
}

// A finished run that recorded a violation keeps counting on every rerun (issue 15 item 4).
bool recorded_violation(const fs::path& failure) {
  std::error_code ec;
  if (!fs::is_regular_file(failure, ec)) return false;
  std::ifstream in(failure);
  const json j = json::parse(in, nullptr, false);
  return j.is_object() && j.value("status", json()) == "violation";
}

json cells_json(const std::vector<Cell>& cells) {
  json out = json::array();
  for (const auto& c : cells) out.push_back({{"id", c.id}, {"slug", c.slug}, {"scenario", c.scenario}, {"args", c.args}});
  return out;
}

// Refuses to mix results of two different matrices in one directory.
void check_or_write_manifest(const MatrixSpec& spec, const std::vector<Cell>& cells,
                             const std::vector<RunSlot>& order, const ExecutorOptions& opt) {
  const std::string fp = matrix_fingerprint(spec, cells);
  const fs::path manifest = opt.out_dir / "matrix.json";
  if (fs::exists(manifest)) {
    const json old = read_manifest(opt.out_dir);  // UsageError naming the field when malformed
    if (old["fingerprint"] != fp)
      throw UsageError(opt.out_dir.string() + " holds results of a different matrix (other cells, duration or seed); "
                       "use a new --out directory, or rerun the same matrix to resume");
  }
  json order_json = json::array();
  for (const auto& s : order) order_json.push_back({{"cell", cells[s.cell].id}, {"repetition", s.repetition}});
  json m = {{"name", spec.name},
            {"fingerprint", fp},
            {"repetitions", spec.repetitions},
            {"duration_ns", spec.duration.count()},
            {"warmup_ns", spec.warmup.count()},
            {"grace_ns", spec.grace.count()},
            {"seed", spec.seed},
            {"shard", {{"index", opt.shard.index}, {"total", opt.shard.total}, {"source", opt.shard.source}}},
            {"cells", cells_json(cells)},
            {"order", order_json}};
  write_json_file(manifest, m);
  write_text_file(opt.out_dir / "matrix.toml", spec.source_text);
  if (!fs::exists(opt.out_dir / "environment.json")) write_json_file(opt.out_dir / "environment.json", capture_environment());
}

struct Invocation {
  std::vector<std::string> argv;
  fs::path json_out;
  fs::path log;
};

Invocation make_invocation(const fs::path& runner, const Cell& cell, Nanos duration, uint64_t seed,
                           const fs::path& json_out, const fs::path& log) {
  Invocation inv{{runner.string(), "run"}, json_out, log};
  inv.argv.insert(inv.argv.end(), cell.args.begin(), cell.args.end());
  for (const std::string& a : {std::string("--duration"), duration_arg(duration), std::string("--seed"),
                               std::to_string(seed), std::string("--json"), json_out.string(),
                               std::string("--quiet")})
    inv.argv.push_back(a);
  return inv;
}

// "exit 2: <the run's last line>" first (progress notes show only that line), then the
// end of the run's output for the failure record.
std::string failure_detail(const ChildResult& r, const fs::path& log) {
  std::string d = r.describe();
  const std::string tail = tail_of_file(log, 5);
  if (tail.empty()) return d;
  const auto last_nl = tail.rfind('\n');
  d += ": " + (last_nl == std::string::npos ? tail : tail.substr(last_nl + 1));
  if (last_nl != std::string::npos) d += "\nlast output:\n" + tail;
  return d;
}

// Removes the run's tmp/ directory when the executor leaves, by return or by exception.
struct TmpCleanup {
  fs::path dir;
  ~TmpCleanup() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

class Executor {
 public:
  Executor(const MatrixSpec& spec, const ExecutorOptions& opt) : spec_(spec), opt_(opt), cells_(expand_cells(spec)) {}

  MatrixOutcome run() {
    const auto mine = cells_of_shard(cells_.size(), opt_.shard);
    if (mine.empty())
      throw UsageError("shard " + std::to_string(opt_.shard.index) + "/" + std::to_string(opt_.shard.total) + " (" +
                       opt_.shard.source + ") has no cells: the matrix has " + std::to_string(cells_.size()) +
                       " cell(s); use at most " + std::to_string(cells_.size()) + " shards");
    const auto order = interleaved_order(mine, spec_.repetitions, spec_.seed);
    check_out_dir(opt_.out_dir, OutPurpose::kRun);
    create_out_dir(opt_.out_dir);
    for (const char* sub : {"runs", "failures", "logs", "tmp"}) create_out_dir(opt_.out_dir / sub);
    TmpCleanup cleanup{opt_.out_dir / "tmp"};  // on every path, errors included
    check_or_write_manifest(spec_, cells_, order, opt_);

    MatrixOutcome out;
    out.planned = static_cast<int>(order.size());
    std::vector<RunSlot> todo;
    std::set<size_t> cells_todo;
    for (const auto& s : order) {
      if (finished(result_path(opt_.out_dir, cells_[s.cell], s.repetition))) {
        ++out.done_before;
        out.violations_before += recorded_violation(failure_path(opt_.out_dir, cells_[s.cell], s.repetition));
        out.runs.push_back({cells_[s.cell].id, s.repetition, RunStatus::kDoneBefore, "", 0});
      } else {
        todo.push_back(s);
        cells_todo.insert(s.cell);
      }
    }
    if (out.done_before > 0)
      std::fprintf(opt_.progress, "matrix: resuming in %s: %d of %d runs already done\n",
                   opt_.out_dir.string().c_str(), out.done_before, out.planned);
    const int warmups = spec_.warmup.count() > 0 ? static_cast<int>(cells_todo.size()) : 0;
    Progress progress(opt_.progress, opt_.tty, static_cast<int>(todo.size()), warmups);

    std::map<size_t, std::string> unavailable;  // cell -> reason
    std::set<size_t> warmed;
    for (const auto& slot : todo) {
      if (stop_requested()) {
        out.interrupted = true;
        break;
      }
      const Cell& cell = cells_[slot.cell];
      const std::string what = cell.id + " #" + std::to_string(slot.repetition);
      if (spec_.warmup.count() > 0 && warmed.insert(slot.cell).second && !unavailable.count(slot.cell)) {
        progress.starting(cell.id + " (warm-up)");
        auto reason = warm_up(cell, progress);
        if (reason) unavailable[slot.cell] = *reason;
      }
      RunOutcome r;
      if (auto it = unavailable.find(slot.cell); it != unavailable.end()) {
        r = {cell.id, slot.repetition, RunStatus::kUnavailable, it->second, 0};
      } else {
        progress.starting(what);
        r = run_once(cell, slot.repetition);
        if (r.status == RunStatus::kUnavailable) unavailable[slot.cell] = r.detail;
      }
      if (r.status == RunStatus::kInterrupted) {
        out.interrupted = true;
        out.runs.push_back(r);
        break;
      }
      tally(out, r);
      record_failure(cell, r);
      progress.run_done(what, to_string(r.status), r.seconds);
      if (r.status != RunStatus::kOk && r.status != RunStatus::kUnavailable)
        progress.note("matrix: " + what + ": " + to_string(r.status) + ": " + first_line(r.detail));
      out.runs.push_back(std::move(r));
    }
    for (const auto& [c, why] : unavailable)
      progress.note("matrix: " + cells_[c].id + " cannot run here: " + first_line(why));
    write_status(out);
    return out;
  }

 private:
  static std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl) + " ...";
  }

  static void tally(MatrixOutcome& out, const RunOutcome& r) {
    switch (r.status) {
      case RunStatus::kOk: ++out.ok; break;
      case RunStatus::kViolation: ++out.violations; break;
      case RunStatus::kUnavailable: ++out.unavailable; break;
      case RunStatus::kFailed:
      case RunStatus::kTimedOut: ++out.failed; break;
      default: break;
    }
  }

  Nanos bound() const { return spec_.duration + spec_.grace; }

  // Returns the reason when the machine cannot run the cell at all (runner exit 2).
  std::optional<std::string> warm_up(const Cell& cell, Progress& progress) {
    const fs::path json_out = opt_.out_dir / "tmp" / (cell.slug + ".warmup.json");
    const fs::path log = opt_.out_dir / "logs" / (cell.slug + ".warmup.log");
    remove_stale(log);
    const Invocation inv = make_invocation(opt_.runner, cell, spec_.warmup, spec_.seed, json_out, log);
    const ChildResult r = run_child(inv.argv, log, spec_.warmup + spec_.grace);
    progress.warmup_done(r.seconds);
    remove_stale(json_out);
    if (r.end == ChildResult::End::kExited && r.code == kExitUnusable) return failure_detail(r, log);
    return std::nullopt;
  }

  RunOutcome run_once(const Cell& cell, int rep) {
    const fs::path tmp = opt_.out_dir / "tmp" / (cell.slug + ".rep" + std::to_string(rep) + ".json");
    const fs::path log = opt_.out_dir / "logs" / (cell.slug + ".rep" + std::to_string(rep) + ".log");
    remove_stale(tmp);
    remove_stale(log);
    const uint64_t seed = spec_.seed + static_cast<uint64_t>(rep);
    const Invocation inv = make_invocation(opt_.runner, cell, spec_.duration, seed, tmp, log);
    const ChildResult r = run_child(inv.argv, log, bound());
    RunOutcome out{cell.id, rep, RunStatus::kFailed, "", r.seconds};
    switch (r.end) {
      case ChildResult::End::kInterrupted: out.status = RunStatus::kInterrupted; break;
      case ChildResult::End::kTimedOut:
        out.status = RunStatus::kTimedOut;
        out.detail = failure_detail(r, log) + "\n(bound: duration " + duration_arg(spec_.duration) + " + grace " +
                     duration_arg(spec_.grace) + "; raise [matrix] grace if the machine is slow)";
        break;
      case ChildResult::End::kSignaled: out.detail = failure_detail(r, log); break;
      case ChildResult::End::kExited:
        if (r.code == kExitUnusable) {
          out.status = RunStatus::kUnavailable;
          out.detail = failure_detail(r, log);
        } else if (r.code == kExitOk || r.code == kExitFailure) {
          // Exit 1 with a result = the run measured and found a violation: keep the result.
          std::string why;
          if (store_result(cell, rep, seed, tmp, why))
            out.status = r.code == kExitOk ? RunStatus::kOk : RunStatus::kViolation;
          else
            out.detail = r.describe() + " but " + why;
          if (out.status == RunStatus::kViolation) out.detail = failure_detail(r, log);
        } else {
          out.detail = failure_detail(r, log);
        }
        break;
    }
    remove_stale(tmp);
    return out;
  }

  // Annotates the run's result with its place in the matrix and moves it into runs/.
  bool store_result(const Cell& cell, int rep, uint64_t seed, const fs::path& tmp, std::string& why) {
    ResultFile result;
    try {
      result = read_result_file(tmp);
    } catch (const UnavailableError& e) {
      why = std::string("its result is unusable: ") + e.what();
      return false;
    }
    if (result.benchmarks.empty()) {
      why = "its result holds no benchmark";
      return false;
    }
    for (auto& b : result.benchmarks) {
      b.repetitions = spec_.repetitions;
      b.repetition_index = rep;
    }
    result.context["matrix"] = {{"name", spec_.name}, {"cell", cell.id}, {"repetition", rep}, {"seed", seed},
                                {"fingerprint", matrix_fingerprint(spec_, cells_)}};
    write_result_file(result_path(opt_.out_dir, cell, rep), result);
    return true;
  }

  void record_failure(const Cell& cell, const RunOutcome& r) {
    const fs::path p = failure_path(opt_.out_dir, cell, r.repetition);
    if (r.status == RunStatus::kOk) {
      remove_stale(p);  // an earlier failure of this run was retried successfully
      return;
    }
    write_json_file(p, {{"cell", cell.id}, {"scenario", cell.scenario}, {"repetition", r.repetition},
                   {"status", to_string(r.status)}, {"detail", r.detail}, {"seconds", r.seconds}});
  }

  void write_status(const MatrixOutcome& out) {
    json runs = json::array();
    for (const auto& r : out.runs)
      runs.push_back({{"cell", r.cell}, {"repetition", r.repetition}, {"status", to_string(r.status)},
                      {"seconds", r.seconds}, {"detail", r.detail}});
    write_json_file(opt_.out_dir / "status.json",
               {{"planned", out.planned}, {"done_before", out.done_before},
                {"violations_before", out.violations_before}, {"ok", out.ok},
                {"violations", out.violations}, {"failed", out.failed}, {"unavailable", out.unavailable},
                {"interrupted", out.interrupted}, {"runs", runs}});
  }

  const MatrixSpec& spec_;
  const ExecutorOptions& opt_;
  std::vector<Cell> cells_;
};

}  // namespace

MatrixOutcome run_matrix(const MatrixSpec& spec, const ExecutorOptions& options) {
  if (options.runner.empty() || !fs::exists(options.runner))
    throw UsageError("runner binary '" + options.runner.string() + "' does not exist; pass the gpcbench binary");
  // Exists but cannot be executed (no x bit, a directory): refused the same way, not left
  // to fail in posix_spawn for every cell (issue 15 item 19).
  if (!fs::is_regular_file(options.runner) || ::access(options.runner.c_str(), X_OK) != 0)
    throw UsageError("runner binary '" + options.runner.string() +
                     "' is not an executable file; chmod +x it or pass the gpcbench binary");
  return Executor(spec, options).run();
}

}  // namespace gpc::matrix
