// The stress plan: every combination of scenario and axes that `gpcbench stress` runs, and
// for each one that cannot run here the exact reason (it becomes a TAP SKIP point).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "invalidators/invalidator.hpp"

namespace gpc::stress {

struct Combination {
  std::string id;        // "cache/strategy:busy/hook:end/.../target:cache", the matrix naming
  std::string scenario;  // "cache", "pvclock"
  std::vector<std::pair<std::string, std::string>> axes;  // flag (without --) and value, in id order
  std::string skip_reason;  // non-empty: cannot run here, and why
  // hook=end with the invalidator on the cache's own page: the one place where the scenario
  // may report unsafe_violations as a finding (BRIEF §6); anywhere else they fail the point.
  bool unsafe_candidate = false;

  std::string axis(const std::string& flag) const;  // value of an axis, "" when absent
  // {"run", scenario, "--flag", "value", ...}: what goes after the runner binary.
  std::vector<std::string> run_args() const;
};

// What this machine and this gpcbench can run. Each function returns "" when the thing runs,
// otherwise the reason. Injected so tests can describe any machine.
struct Availability {
  std::function<std::string(const std::string& scenario)> scenario;
  std::function<std::string(const std::string& scenario, const std::string& flag)> flag;
  std::function<std::string(const std::string& scenario, InvalidatorType, Target)> invalidator;
};

// The fixed plan (docs/stress.md): the full strategy x hook x invalidator cross on the
// cache page, unrelated targets and the filter/check variants on a subset, then pvclock
// (layer K) alone and under each invalidator. Skipped combinations stay in the plan.
std::vector<Combination> enumerate_combinations(const Availability& here);

// Combinations whose id contains `substring` (all when empty).
std::vector<Combination> filter_combinations(const std::vector<Combination>& all, const std::string& substring);

}  // namespace gpc::stress
