#include "stress/verdict.hpp"

#include <fmt/format.h>

#include <array>

namespace gpc::stress {
namespace {

// Counters shown with every verdict that has a result: the invariants and the evidence
// that the invalidator really moved the page (the basis of "unsafe by design").
constexpr std::array kShownCounters{"violations", "unsafe_violations", "iterations", "inval_ops",
                                    "inval_pfn_changed", "inval_thp_changed", "inval_unverified",
                                    "retries_per_op", "max_ns"};

void add_counters(TapDiagnostics& d, const ResultFile& r) {
  for (const char* name : kShownCounters) {
    if (std::string(name) == "iterations") {
      double it = 0;
      for (const auto& b : r.benchmarks) it += static_cast<double>(b.iterations);
      d.emplace_back(name, fmt::format("{:.0f}", it));
      continue;
    }
    bool present = false;
    for (const auto& b : r.benchmarks) present = present || b.counters.count(name);
    if (present) d.emplace_back(name, fmt::format("{:.6g}", counter_sum(r, name)));
  }
}

Verdict fail(std::string why, const RunRecord& run) {
  Verdict v{Outcome::kFail, std::move(why), {}};
  v.diagnostics.emplace_back("message", v.summary);
  v.diagnostics.emplace_back("severity", "fail");
  if (run.result) add_counters(v.diagnostics, *run.result);
  v.diagnostics.emplace_back("reproduce", run.command);
  if (!run.log_tail.empty()) v.diagnostics.emplace_back("output", run.log_tail);
  return v;
}

// The child's own explanation for exit 2: its last output line, cleaned of the program name.
std::string skip_message(const RunRecord& run) {
  std::string tail = run.log_tail;
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  const size_t nl = tail.rfind('\n');
  std::string last = nl == std::string::npos ? tail : tail.substr(nl + 1);
  return last.empty() ? "the scenario cannot run here (exit 2, no message)" : last;
}

}  // namespace

double counter_sum(const ResultFile& result, const std::string& counter) {
  double sum = 0;
  for (const auto& b : result.benchmarks)
    if (auto it = b.counters.find(counter); it != b.counters.end()) sum += it->second;
  return sum;
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "ok";
    case Outcome::kFail: return "FAIL";
    case Outcome::kSkip: return "skip";
    case Outcome::kUnsafeByDesign: return "unsafe";
    case Outcome::kInterrupted: return "interrupted";
  }
  return "?";
}

Verdict judge(const Combination& c, const RunRecord& run) {
  using End = matrix::ChildResult::End;
  switch (run.child.end) {
    case End::kInterrupted: return {Outcome::kInterrupted, "interrupted (Ctrl-C); the run was torn down", {}};
    case End::kTimedOut:
      // The no-hung-vCPU/thread invariant: every run ends within its bound plus grace.
      return fail(fmt::format("hung: no result within {:.1f} s (duration + grace); the process group was killed",
                              run.bound_seconds),
                  run);
    case End::kSignaled: return fail(run.child.describe(), run);
    case End::kExited: break;
  }
  const int code = run.child.code;
  if (code == 2) return {Outcome::kSkip, skip_message(run), {}};
  if (code != 0 && code != 1) return fail(fmt::format("exit {} (0 or 1 expected)", code), run);
  if (!run.result)
    return fail("no result file (" + (run.result_error.empty() ? "not written" : run.result_error) + ")", run);

  const double violations = counter_sum(*run.result, "violations");
  const double unsafe = counter_sum(*run.result, "unsafe_violations");
  if (violations > 0) return fail(fmt::format("{:.0f} unexpected invariant violations", violations), run);
  if (code == 1) return fail("exit 1 (a failed invariant) although the result counts no violations", run);
  if (unsafe > 0 && !c.unsafe_candidate)
    return fail(fmt::format("{:.0f} unsafe_violations outside hook=end on the cache page: unexpected", unsafe), run);
  if (unsafe > 0) {
    Verdict v{Outcome::kUnsafeByDesign,
              fmt::format("unsafe by design: {:.0f} uses through khva after range_start returned", unsafe), {}};
    v.diagnostics.emplace_back("message", v.summary);
    v.diagnostics.emplace_back("severity", "todo");
    add_counters(v.diagnostics, *run.result);
    v.diagnostics.emplace_back("reproduce", run.command);
    return v;
  }
  return {Outcome::kPass, "", {}};
}

}  // namespace gpc::stress
