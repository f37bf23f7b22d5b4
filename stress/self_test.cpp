#include "stress/self_test.hpp"

#include <signal.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "matrix/child_process.hpp"
#include "matrix/executor.hpp"
#include "results/result_file.hpp"
#include "stress/stress_run.hpp"
#include "stress/tap_writer.hpp"
#include "stress/verdict.hpp"

namespace gpc::stress {
namespace {

using pfncache::Bug;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Point {
  bool ok = true;
  std::string description;
  std::string directive;
  TapDiagnostics diagnostics;
};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Collects points, then prints them as TAP (plan first) or as a table.
class Report {
 public:
  void add(Point p) { points_.push_back(std::move(p)); }
  int print(bool tap, std::FILE* out) const {
    int failed = 0;
    for (const auto& p : points_) failed += !p.ok && p.directive.rfind("TODO", 0) != 0;
    if (tap) {
      TapWriter w(out);
      w.version_and_plan(static_cast<int>(points_.size()));
      for (const auto& p : points_) w.point(p.ok, p.description, p.directive, p.diagnostics);
      w.comment(fmt::format("self-test: {} checks, {} failed", points_.size(), failed));
    } else {
      for (const auto& p : points_) {
        std::fprintf(out, "%-7s %s%s%s\n", p.ok ? (p.directive.empty() ? "ok" : "skip") : "FAILED",
                     p.description.c_str(), p.directive.empty() ? "" : "  -- ", p.directive.c_str());
        if (!p.ok)
          for (const auto& [k, v] : p.diagnostics) std::fprintf(out, "        %s: %s\n", k.c_str(), v.c_str());
      }
      std::fprintf(out, "self-test: %zu checks, %d failed\n", points_.size(), failed);
    }
    std::fflush(out);
    return failed > 0 ? kExitFailure : kExitOk;
  }

 private:
  std::vector<Point> points_;
};

void races(Report& r) {
  for (Bug bug : pfncache::historical_races()) {
    const std::string name(to_string(bug));
    auto t0 = Clock::now();
    const auto faithful = pfncache::run_race(bug, false);
    const double faithful_ms = ms_since(t0);
    Point p;
    p.ok = !faithful.detected && faithful.scenario_ok;
    p.description = fmt::format("race {}: faithful model not flagged ({:.1f} ms)", name, faithful_ms);
    if (!p.ok)
      p.diagnostics = {{"message", faithful.detected ? "the faithful model was flagged: " + detector_of(faithful)
                                                     : "a sync point was not reached within its bound"},
                       {"detail", faithful.detail}};
    r.add(std::move(p));

    t0 = Clock::now();
    const auto broken = pfncache::run_race(bug, true);
    const double broken_ms = ms_since(t0);
    Point b;
    b.ok = broken.detected;
    b.description = broken.detected
                        ? fmt::format("race {}: broken variant caught by {} ({:.1f} ms)", name, detector_of(broken),
                                      broken_ms)
                        : fmt::format("race {}: broken variant NOT caught ({:.1f} ms)", name, broken_ms);
    if (!b.ok) b.diagnostics = {{"message", "no detector fired on the reintroduced bug"}, {"detail", broken.detail}};
    r.add(std::move(b));
  }
}

void livelock(Report& r, std::chrono::nanoseconds bound) {
  using pfncache::Filter;
  using pfncache::WaitKind;
  for (WaitKind w : {WaitKind::kBusy, WaitKind::kSpin, WaitKind::kHaltPoll, WaitKind::kBlock}) {
    const std::string wait(to_string(w));
    auto t0 = Clock::now();
    const auto global = pfncache::run_livelock(w, Filter::kGlobal, bound);
    const double global_ms = ms_since(t0);
    // Global filtering starves the refresh while an unrelated range stays open: the
    // detector is the refresh bound expiring.
    Point g;
    g.ok = !global.completed;
    g.description = fmt::format("livelock {}/global: starved refresh caught by the refresh bound ({:.1f} ms)", wait,
                                global_ms);
    if (!g.ok) g.diagnostics = {{"message", "the refresh completed: no livelock seen"}, {"detail", global.detail}};
    r.add(std::move(g));
    t0 = Clock::now();
    const auto range = pfncache::run_livelock(w, Filter::kRange, bound);
    Point rg;
    rg.ok = range.completed;
    rg.description = fmt::format("livelock {}/range: refresh not starved ({:.1f} ms)", wait, ms_since(t0));
    if (!rg.ok) rg.diagnostics = {{"message", "range filtering was flagged"}, {"detail", range.detail}};
    r.add(std::move(rg));
  }
}

struct SubRun {
  matrix::ChildResult child;
  double violations = -1;  // -1: no result
  std::string tail, command;
};

SubRun run_cache(const SelfTestOptions& o, const fs::path& work, const std::string& bug, int index) {
  std::vector<std::string> argv{o.runner.string(), "run",         "cache",   "--strategy", "busy",
                                "--hook",          "start",       "--filter", "global",    "--check",
                                "rwlock",          "--invalidator", "mremap", "--target",   "cache"};
  if (!bug.empty()) argv.insert(argv.end(), {"--bug", bug});
  argv.insert(argv.end(), {"--duration", matrix::duration_arg(o.scenario_duration), "--seed", "1"});
  SubRun s;
  s.command = shell_command(argv);
  const fs::path json = work / fmt::format("cache-{}.json", index), log = work / fmt::format("cache-{}.log", index);
  argv.insert(argv.end(), {"--json", json.string(), "--quiet"});
  s.child = matrix::run_child(argv, log, o.scenario_duration + o.grace);
  s.tail = matrix::tail_of_file(log, 4);
  if (fs::exists(json)) {
    try {
      s.violations = counter_sum(read_result_file(json), "violations");
    } catch (const std::exception& e) {
      s.tail += std::string("\n") + e.what();
    }
  }
  return s;
}

bool exited(const SubRun& s, int code) {
  return s.child.end == matrix::ChildResult::End::kExited && s.child.code == code;
}

void random_scenario(Report& r, const SelfTestOptions& o) {
  if (o.runner.empty()) {
    r.add({true, "random cache scenario detector", "SKIP no runner binary", {}});
    return;
  }
  TempDir work("gpcbench-selftest");
  if (scenario_help(o.runner, "cache", work.path() / "help.txt").empty()) {
    r.add({true, "random cache scenario detector",
           "SKIP this gpcbench has no `run cache` scenario; only the in-process detectors ran", {}});
    return;
  }
  auto t0 = Clock::now();
  const SubRun faithful = run_cache(o, work.path(), "", 0);
  Point f;
  f.description = fmt::format("cache scenario: faithful model not flagged ({:.0f} ms)", ms_since(t0));
  if (exited(faithful, 2)) {
    f.directive = "SKIP " + faithful.tail.substr(faithful.tail.rfind('\n') + 1);
  } else {
    f.ok = exited(faithful, 0) && faithful.violations == 0;
    if (!f.ok)
      f.diagnostics = {{"message", fmt::format("{}, violations {}", faithful.child.describe(), faithful.violations)},
                       {"reproduce", faithful.command},
                       {"output", faithful.tail}};
  }
  r.add(std::move(f));
  if (exited(faithful, 2)) return;
  int index = 1;
  for (Bug bug : pfncache::historical_races()) {
    const std::string name(to_string(bug));
    t0 = Clock::now();
    const SubRun s = run_cache(o, work.path(), name, index++);
    const double ms = ms_since(t0);
    const bool caught = s.violations > 0 || exited(s, 1);
    const bool required = o.random_must_catch.count(bug) > 0;
    Point p;
    if (caught) {
      p.description = fmt::format("cache scenario --bug {}: caught, {:.0f} violations ({:.0f} ms)", name,
                                  std::max(0.0, s.violations), ms);
    } else if (exited(s, 2)) {
      p.description = fmt::format("cache scenario --bug {}", name);
      p.directive = "SKIP " + s.tail.substr(s.tail.rfind('\n') + 1);
    } else if (required) {
      p.ok = false;
      p.description = fmt::format("cache scenario --bug {}: NOT caught ({:.0f} ms)", name, ms);
      p.diagnostics = {{"message", "the random scenario must catch this bug (it did before)"},
                       {"reproduce", s.command},
                       {"output", s.tail}};
    } else {
      p.description = fmt::format("cache scenario --bug {}: not caught in {} ({:.0f} ms)", name,
                                  matrix::duration_arg(o.scenario_duration), ms);
      p.directive = "SKIP the random scenario does not reach this race; its forced interleaving catches it";
    }
    r.add(std::move(p));
  }
}

}  // namespace

std::string detector_of(const pfncache::RaceOutcome& o) {
  std::vector<std::string> fired;
  const auto& c = o.contract;
  if (c.use_after_start) fired.push_back(fmt::format("use_after_start={}", c.use_after_start));
  if (c.stale) fired.push_back(fmt::format("stale={}", c.stale));
  if (c.null_khva) fired.push_back(fmt::format("null_khva={}", c.null_khva));
  std::string out;
  if (!fired.empty()) out = "contract checker (" + fmt::format("{}", fmt::join(fired, " ")) + ")";
  fired.clear();
  const auto& a = o.audit;
  if (a.valid_while_inactive) fired.push_back("valid_while_inactive");
  if (a.mapped_while_inactive) fired.push_back("mapped_while_inactive");
  if (a.valid_but_unlisted) fired.push_back("valid_but_unlisted");
  if (a.lock_self_deadlocks) fired.push_back(fmt::format("lock_self_deadlocks={}", a.lock_self_deadlocks));
  if (a.lock_unbalanced_unlocks) fired.push_back(fmt::format("lock_unbalanced_unlocks={}", a.lock_unbalanced_unlocks));
  if (a.valid_khva_unmapped) fired.push_back("valid_khva_unmapped");
  if (a.refresh_warnings) fired.push_back(fmt::format("refresh_warnings={}", a.refresh_warnings));
  if (!fired.empty()) out += (out.empty() ? "" : " + ") + ("model audit (" + fmt::format("{}", fmt::join(fired, " ")) + ")");
  if (o.refresh == pfncache::RefreshResult::kDeadlock) out += std::string(out.empty() ? "" : " + ") + "deadlock detector";
  if (out.empty() && o.detected) out = "resolver (unmap of a page not mapped)";
  return out.empty() ? "nothing" : out;
}

int run_self_test(const SelfTestOptions& o, std::FILE* out) {
  Report r;
  races(r);
  livelock(r, o.livelock_bound);
  random_scenario(r, o);
  const int rc = r.print(o.tap, out);
  // Interrupted: the points after the signal are not verdicts; 130/143 like every verb.
  if (stop_requested()) return 128 + (stop_signal() != 0 ? stop_signal() : SIGINT);
  return rc;
}

}  // namespace gpc::stress
