#include "stress/stress_run.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "env/environment.hpp"
#include "env/features.hpp"
#include "matrix/child_process.hpp"
#include "matrix/executor.hpp"
#include "matrix/progress.hpp"
#include "scenarios/pvclock_scenario.hpp"
#include "scenarios/xen_evtchn_scenario.hpp"
#include "stress/tap_writer.hpp"
#include "stress/verdict.hpp"

namespace gpc::stress {
namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) {
  std::string templ = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(templ.data())) throw SystemError("mkdtemp " + templ, errno);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789-_./:=,+") == std::string::npos;
    if (!out.empty()) out += ' ';
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string scenario_help(const fs::path& runner, const std::string& scenario, const fs::path& log) {
  const auto r = matrix::run_child({runner.string(), "run", scenario, "--help"}, log, std::chrono::seconds(30));
  if (r.end != matrix::ChildResult::End::kExited || r.code != 0) return "";
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  return text.find(" run " + scenario + " ") != std::string::npos ? text : "";
}

Availability probe_availability(const fs::path& runner, const fs::path& work) {
  // Scenario verdicts of this machine (the same text `gpcbench info` prints).
  auto features = std::make_shared<std::vector<Feature>>(probe_features(capture_environment()));
  // The runner's help per scenario, asked once: "" when the runner lacks the scenario.
  auto help = std::make_shared<std::map<std::string, std::string>>();
  auto help_of = [runner, work, help](const std::string& scenario) -> const std::string& {
    auto it = help->find(scenario);
    if (it != help->end()) return it->second;
    const std::string text = scenario_help(runner, scenario, work / ("help-" + scenario + ".txt"));
    return help->emplace(scenario, text).first->second;
  };
  Availability a;
  a.scenario = [features, help_of, runner](const std::string& scenario) -> std::string {
    // `gpcbench info` names the xen-evtchn scenario after the Xen page it needs first.
    const std::string feature =
        "scenario:" + (scenario == "xen-evtchn" ? std::string("xen-shared-info") : scenario);
    for (const auto& f : *features)
      if (f.name == feature && !f.runs_here) return f.reason;
    if (help_of(scenario).empty())
      return fmt::format("{} has no `run {}` scenario (`run {} --help` does not show it): not built into this gpcbench",
                         runner.filename().string(), scenario, scenario);
    return "";
  };
  a.flag = [help_of](const std::string& scenario, const std::string& flag) -> std::string {
    const std::string& text = help_of(scenario);
    if (text.find("--" + flag) != std::string::npos) return "";
    return fmt::format("`run {}` has no --{} option in this gpcbench", scenario, flag);
  };
  a.invalidator = [](const std::string& scenario, InvalidatorType type, Target target) -> std::string {
    // pvclock and xen-evtchn ask their own probes (their guest memory is anonymous THP by
    // default); `cache` keeps guest memory in a memfd (BRIEF §2). compact is never allowed here.
    const ProbeResult p = scenario == "pvclock"      ? scenarios::probe_pvclock_invalidator(type, target)
                          : scenario == "xen-evtchn" ? scenarios::probe_xen_evtchn_invalidator(type, target)
                                                     : probe(type, target, ProbeContext{BackingKind::memfd, false, false});
    return p.runs_here ? "" : p.reason;
  };
  return a;
}

Nanos per_combination(const StressOptions& o, size_t runnable) {
  if (runnable == 0) return o.min_each;
  const Nanos share = o.total / static_cast<int64_t>(runnable);
  return std::max(share, o.min_each);
}

void print_plan(const std::vector<Combination>& plan, std::FILE* out) {
  size_t runnable = 0;
  for (const auto& c : plan) {
    if (c.skip_reason.empty()) ++runnable;
    std::fprintf(out, "%-4s %s%s%s\n", c.skip_reason.empty() ? "run" : "skip", c.id.c_str(),
                 c.skip_reason.empty() ? "" : "  -- ", c.skip_reason.c_str());
  }
  std::fprintf(out, "%zu combinations, %zu run here, %zu skipped\n", plan.size(), runnable, plan.size() - runnable);
}

namespace {

struct Tally {
  int pass = 0, fail = 0, skip = 0, unsafe = 0;
};

RunRecord run_one(const Combination& c, const StressOptions& o, Nanos duration, uint64_t seed, const fs::path& work,
                  int index) {
  const fs::path json = work / fmt::format("run-{}.json", index);
  const fs::path log = work / fmt::format("run-{}.log", index);
  std::vector<std::string> argv{o.runner.string()};
  for (auto& a : c.run_args()) argv.push_back(std::move(a));
  argv.insert(argv.end(), {"--duration", matrix::duration_arg(duration), "--seed", std::to_string(seed)});
  RunRecord rec;
  rec.command = shell_command(argv);
  argv.insert(argv.end(), {"--json", json.string(), "--quiet"});
  const Nanos bound = duration + o.grace;
  rec.bound_seconds = std::chrono::duration<double>(bound).count();
  rec.child = matrix::run_child(argv, log, bound);
  rec.log_tail = matrix::tail_of_file(log, 8);
  if (fs::exists(json)) {
    try {
      rec.result = read_result_file(json);
    } catch (const std::exception& e) {
      rec.result_error = e.what();
    }
  }
  return rec;
}

// Continuation lines of a multi-line value, indented under its key.
std::string indented(const std::string& value, const std::string& indent) {
  std::string out;
  for (char ch : value) out += ch == '\n' ? "\n" + indent : std::string(1, ch);
  return out;
}

void print_table_row(std::FILE* out, int index, const Combination& c, const Verdict& v, double seconds) {
  std::fprintf(out, "%4d  %-11s %6.1fs  %s%s%s\n", index, std::string(outcome_name(v.outcome)).c_str(), seconds,
               c.id.c_str(), v.summary.empty() ? "" : "  -- ", v.summary.c_str());
  if (v.outcome == Outcome::kFail || v.outcome == Outcome::kUnsafeByDesign)
    for (const auto& [key, value] : v.diagnostics)
      if (key != "message" && key != "severity")
        std::fprintf(out, "        %s: %s\n", key.c_str(), indented(value, "          ").c_str());
  std::fflush(out);
}

// The shell's way: 130 for SIGINT, 143 for SIGTERM (docs/stress.md).
int interrupted_exit_code() { return 128 + (stop_signal() != 0 ? stop_signal() : SIGINT); }

}  // namespace

int run_stress(const std::vector<Combination>& plan, const StressOptions& o, std::FILE* out) {
  size_t runnable = 0;
  for (const auto& c : plan) runnable += c.skip_reason.empty();
  const Nanos each = per_combination(o, runnable);
  TempDir work("gpcbench-stress");
  // The 0.5 s floor can make the plan longer than --duration: say so up front.
  const double planned_s = std::chrono::duration<double>(each).count() * static_cast<double>(runnable);
  TapWriter tap(out);
  if (o.tap) {
    tap.version_and_plan(static_cast<int>(plan.size()));
    tap.comment(fmt::format("gpcbench stress: {} combinations, {} run here, {} each (+{} grace bound), {:.0f} s of "
                            "runs plus process start-up; runner {}",
                            plan.size(), runnable, matrix::duration_arg(each), matrix::duration_arg(o.grace),
                            planned_s, o.runner.string()));
  } else {
    std::fprintf(out, "gpcbench stress: %zu combinations, %zu run here, %s each, %.0f s of runs plus process start-up; "
                 "runner %s\n", plan.size(), runnable, matrix::duration_arg(each).c_str(), planned_s, o.runner.c_str());
  }
  // The bar only on a terminal: in a log the table or TAP already says what finished.
  std::unique_ptr<matrix::Progress> progress;
  if (o.progress_tty) progress = std::make_unique<matrix::Progress>(stderr, true, static_cast<int>(runnable), 0);
  Tally t;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Combination& c = plan[i];
    const int index = static_cast<int>(i) + 1;
    Verdict v;
    double seconds = 0;
    if (!c.skip_reason.empty()) {
      v = {Outcome::kSkip, c.skip_reason, {}};
    } else {
      if (progress) progress->starting(c.id);
      const RunRecord rec = run_one(c, o, each, o.seed + i, work.path(), index);
      seconds = rec.child.seconds;
      v = judge(c, rec);
      if (v.outcome == Outcome::kInterrupted) {
        if (o.tap) tap.bail_out("interrupted (Ctrl-C) during " + c.id + "; its process group was killed");
        else std::fprintf(out, "interrupted (Ctrl-C) during %s; its process group was killed\n", c.id.c_str());
        return interrupted_exit_code();
      }
      if (progress) progress->run_done(c.id, std::string(outcome_name(v.outcome)), seconds);
    }
    switch (v.outcome) {
      case Outcome::kPass: ++t.pass; break;
      case Outcome::kFail: ++t.fail; break;
      case Outcome::kSkip: ++t.skip; break;
      case Outcome::kUnsafeByDesign: ++t.unsafe; break;
      case Outcome::kInterrupted: break;
    }
    if (!o.tap) {
      print_table_row(out, index, c, v, seconds);
      continue;
    }
    switch (v.outcome) {
      case Outcome::kPass: tap.point(true, c.id); break;
      case Outcome::kSkip: tap.point(true, c.id, "SKIP " + v.summary); break;
      case Outcome::kFail: tap.point(false, c.id, "", v.diagnostics); break;
      case Outcome::kUnsafeByDesign: tap.point(false, c.id, "TODO " + v.summary, v.diagnostics); break;
      case Outcome::kInterrupted: break;
    }
  }
  const std::string summary = fmt::format(
      "{} ok, {} unexpected violations/failures, {} unsafe by design (shown, not failing), {} skipped", t.pass, t.fail,
      t.unsafe, t.skip);
  if (o.tap) tap.comment(summary);
  else std::fprintf(out, "%s\n", summary.c_str());
  return t.fail > 0 ? kExitFailure : kExitOk;
}

}  // namespace gpc::stress
