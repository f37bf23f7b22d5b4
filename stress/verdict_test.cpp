#include "stress/verdict.hpp"

#include <gtest/gtest.h>

namespace gpc::stress {
namespace {

using End = matrix::ChildResult::End;

Combination combo(const std::string& hook, const std::string& target) {
  Combination c;
  c.scenario = "cache";
  c.axes = {{"hook", hook}, {"invalidator", "mremap"}, {"target", target}};
  c.id = "cache/hook:" + hook + "/invalidator:mremap/target:" + target;
  c.unsafe_candidate = hook == "end" && target == "cache";
  return c;
}

RunRecord exited(int code, double violations, double unsafe) {
  RunRecord r;
  r.child.end = End::kExited;
  r.child.code = code;
  r.command = "gpcbench run cache --hook end";
  r.bound_seconds = 10.5;
  ResultFile f;
  BenchmarkRecord b;
  b.name = "cache/x";
  b.iterations = 100;
  b.counters["violations"] = violations;
  b.counters["unsafe_violations"] = unsafe;
  b.counters["inval_pfn_changed"] = 40;
  f.benchmarks.push_back(b);
  r.result = f;
  return r;
}

std::string diag(const Verdict& v, const std::string& key) {
  for (const auto& [k, val] : v.diagnostics)
    if (k == key) return val;
  return "<absent>";
}

TEST(Verdict, CleanRunPasses) {
  EXPECT_EQ(judge(combo("start", "cache"), exited(0, 0, 0)).outcome, Outcome::kPass);
}

TEST(Verdict, ViolationFailsWithCountersAndReproduction) {
  const Verdict v = judge(combo("start", "cache"), exited(1, 2, 0));
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_NE(v.summary.find("2 unexpected"), std::string::npos) << v.summary;
  EXPECT_EQ(diag(v, "violations"), "2");
  EXPECT_EQ(diag(v, "inval_pfn_changed"), "40");
  EXPECT_EQ(diag(v, "reproduce"), "gpcbench run cache --hook end");
}

TEST(Verdict, ExitOneWithoutCountedViolationsStillFails) {
  EXPECT_EQ(judge(combo("start", "cache"), exited(1, 0, 0)).outcome, Outcome::kFail);
}

TEST(Verdict, UnsafeOnlyWhereHookEndMeetsTheCachePage) {
  const Verdict todo = judge(combo("end", "cache"), exited(0, 0, 3));
  EXPECT_EQ(todo.outcome, Outcome::kUnsafeByDesign);
  EXPECT_EQ(diag(todo, "unsafe_violations"), "3");
  EXPECT_EQ(judge(combo("start", "cache"), exited(0, 0, 3)).outcome, Outcome::kFail);
  EXPECT_EQ(judge(combo("end", "unrelated"), exited(0, 0, 3)).outcome, Outcome::kFail);
  // An unexpected violation is never hidden behind an unsafe-by-design label.
  EXPECT_EQ(judge(combo("end", "cache"), exited(1, 1, 3)).outcome, Outcome::kFail);
}

TEST(Verdict, ExitTwoSkipsWithTheChildsLastLine) {
  RunRecord r = exited(2, 0, 0);
  r.result.reset();
  r.log_tail = "starting\nerror: /dev/kvm does not exist: load the KVM module\n";
  const Verdict v = judge(combo("start", "cache"), r);
  EXPECT_EQ(v.outcome, Outcome::kSkip);
  EXPECT_EQ(v.summary, "error: /dev/kvm does not exist: load the KVM module");
}

TEST(Verdict, HangCrashAndMissingResultFail) {
  RunRecord hung = exited(0, 0, 0);
  hung.child.end = End::kTimedOut;
  const Verdict h = judge(combo("start", "cache"), hung);
  EXPECT_EQ(h.outcome, Outcome::kFail);
  EXPECT_NE(h.summary.find("hung: no result within 10.5 s"), std::string::npos) << h.summary;

  RunRecord crashed = exited(0, 0, 0);
  crashed.child.end = End::kSignaled;
  crashed.child.code = 11;
  EXPECT_EQ(judge(combo("start", "cache"), crashed).outcome, Outcome::kFail);

  RunRecord none = exited(0, 0, 0);
  none.result.reset();
  none.result_error = "x.json: invalid or truncated JSON";
  const Verdict n = judge(combo("start", "cache"), none);
  EXPECT_EQ(n.outcome, Outcome::kFail);
  EXPECT_NE(n.summary.find("truncated"), std::string::npos);

  EXPECT_EQ(judge(combo("start", "cache"), exited(3, 0, 0)).outcome, Outcome::kFail);
}

TEST(Verdict, InterruptedIsNoVerdict) {
  RunRecord r = exited(0, 0, 0);
  r.child.end = End::kInterrupted;
  EXPECT_EQ(judge(combo("start", "cache"), r).outcome, Outcome::kInterrupted);
}

}  // namespace
}  // namespace gpc::stress
