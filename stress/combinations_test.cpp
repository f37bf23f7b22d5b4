#include "stress/combinations.hpp"

#include <gtest/gtest.h>

#include <set>

namespace gpc::stress {
namespace {

Availability everything_runs() {
  return {[](const std::string&) { return std::string(); },
          [](const std::string&, const std::string&) { return std::string(); },
          [](const std::string&, InvalidatorType, Target) { return std::string(); }};
}

TEST(Combinations, PlanCoversEveryAxisOnceWithUniqueIds) {
  const auto plan = enumerate_combinations(everything_runs());
  const size_t types = all_invalidator_types().size();
  // strategies x hooks x types on the cache page, + unrelated subset, + filter/check
  // variants, + pvclock alone (1 and 2 vCPUs), under each type, two unrelated, + xen-evtchn
  // alone, under each type, two unrelated.
  EXPECT_EQ(plan.size(), 4 * 2 * types + 4 * 2 * 2 + 3 * 2 * 2 + 2 + types + 2 + 1 + types + 2);
  std::set<std::string> ids;
  for (const auto& c : plan) {
    EXPECT_TRUE(ids.insert(c.id).second) << "duplicate " << c.id;
    EXPECT_TRUE(c.skip_reason.empty()) << c.id;
  }
  std::set<std::string> strategies, invalidators;
  for (const auto& c : plan) {
    if (c.scenario != "cache") continue;
    strategies.insert(c.axis("strategy"));
    invalidators.insert(c.axis("invalidator"));
  }
  EXPECT_EQ(strategies, (std::set<std::string>{"busy", "spin", "haltpoll", "block"}));
  EXPECT_EQ(invalidators.size(), types);
}

TEST(Combinations, IdsAndArgumentsFollowTheRunContract) {
  const auto plan = enumerate_combinations(everything_runs());
  const Combination& c = plan.front();
  EXPECT_EQ(c.id, "cache/strategy:busy/hook:start/filter:global/check:rwlock/invalidator:mremap/target:cache");
  EXPECT_EQ(c.run_args(), (std::vector<std::string>{"run", "cache", "--strategy", "busy", "--hook", "start",
                                                    "--filter", "global", "--check", "rwlock", "--invalidator",
                                                    "mremap", "--target", "cache"}));
}

TEST(Combinations, OnlyHookEndOnTheCachePageMayBeUnsafeByDesign) {
  for (const auto& c : enumerate_combinations(everything_runs())) {
    const bool expected = c.axis("hook") == "end" && c.axis("target") == "cache";
    EXPECT_EQ(c.unsafe_candidate, expected) << c.id;
  }
}

TEST(Combinations, SkipsCarryTheFirstReason) {
  Availability a = everything_runs();
  a.scenario = [](const std::string& s) { return s == "pvclock" ? std::string("/dev/kvm does not exist") : ""; };
  a.flag = [](const std::string& s, const std::string& f) {
    return s == "cache" && f == "check" ? std::string("`run cache` has no --check option") : "";
  };
  a.invalidator = [](const std::string&, InvalidatorType t, Target target) {
    if (t == InvalidatorType::migrate) return std::string("1 NUMA node");
    if (t == InvalidatorType::thp_split && target == Target::cache) return std::string("thp-split on memfd");
    return std::string();
  };
  size_t skipped = 0, xen_runs = 0;
  for (const auto& c : enumerate_combinations(a)) {
    if (c.scenario == "pvclock") {
      EXPECT_EQ(c.skip_reason, "/dev/kvm does not exist") << c.id;
    } else if (c.scenario == "xen-evtchn") {
      const std::string inval = c.axis("invalidator");
      const std::string expected = inval == "migrate"                                    ? "1 NUMA node"
                                   : inval == "thp-split" && c.axis("target") == "cache" ? "thp-split on memfd"
                                                                                          : "";
      EXPECT_EQ(c.skip_reason, expected) << c.id;
      xen_runs += c.skip_reason.empty();
    } else {
      EXPECT_EQ(c.skip_reason, "`run cache` has no --check option") << c.id;  // flag before invalidator
    }
    skipped += !c.skip_reason.empty();
  }
  EXPECT_EQ(xen_runs, 1 + all_invalidator_types().size() + 2 - 2);  // all but migrate and thp-split
  EXPECT_EQ(skipped, enumerate_combinations(a).size() - xen_runs);

  a.flag = everything_runs().flag;
  for (const auto& c : enumerate_combinations(a)) {
    if (c.scenario != "cache") continue;
    const std::string inval = c.axis("invalidator");
    if (inval == "migrate") EXPECT_EQ(c.skip_reason, "1 NUMA node");
    else if (inval == "thp-split") EXPECT_EQ(c.skip_reason, "thp-split on memfd");
    else EXPECT_EQ(c.skip_reason, "") << c.id;
  }
}

TEST(Combinations, FilterBySubstring) {
  const auto plan = enumerate_combinations(everything_runs());
  const auto pv = filter_combinations(plan, "pvclock/");
  EXPECT_EQ(pv.size(), 2 + all_invalidator_types().size() + 2);
  EXPECT_EQ(filter_combinations(plan, "").size(), plan.size());
  EXPECT_TRUE(filter_combinations(plan, "no-such-axis").empty());
  for (const auto& c : filter_combinations(plan, "check:lockless")) EXPECT_EQ(c.axis("check"), "lockless");
}

}  // namespace
}  // namespace gpc::stress
