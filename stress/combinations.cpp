#include "stress/combinations.hpp"

#include <array>

namespace gpc::stress {
namespace {

constexpr std::array kStrategies{"busy", "spin", "haltpoll", "block"};
constexpr std::array kHooks{"start", "end"};

struct Builder {
  const Availability& here;
  std::vector<Combination> out;

  void add(const std::string& scenario, std::vector<std::pair<std::string, std::string>> axes) {
    Combination c;
    c.scenario = scenario;
    c.id = scenario;
    for (const auto& [k, v] : axes) c.id += "/" + k + ":" + v;
    c.axes = std::move(axes);
    c.skip_reason = reason_for(c);
    c.unsafe_candidate = c.axis("hook") == "end" && c.axis("invalidator") != "" && c.axis("target") == "cache";
    out.push_back(std::move(c));
  }

  // The first reason found: scenario, then each flag it needs, then the invalidator probe.
  std::string reason_for(const Combination& c) const {
    if (std::string r = here.scenario(c.scenario); !r.empty()) return r;
    for (const auto& [flag, value] : c.axes)
      if (std::string r = here.flag(c.scenario, flag); !r.empty()) return r;
    const std::string inval = c.axis("invalidator");
    if (inval.empty()) return "";
    const auto types = parse_invalidator_list(inval);
    const Target target = parse_target(c.axis("target").empty() ? "cache" : c.axis("target"));
    for (InvalidatorType t : types)
      if (std::string r = here.invalidator(c.scenario, t, target); !r.empty()) return r;
    return "";
  }
};

}  // namespace

std::string Combination::axis(const std::string& flag) const {
  for (const auto& [k, v] : axes)
    if (k == flag) return v;
  return "";
}

std::vector<std::string> Combination::run_args() const {
  std::vector<std::string> args{"run", scenario};
  for (const auto& [k, v] : axes) {
    args.push_back("--" + k);
    args.push_back(v);
  }
  return args;
}

std::vector<Combination> enumerate_combinations(const Availability& here) {
  Builder b{here, {}};
  const auto& types = all_invalidator_types();
  auto cache = [&](const char* strategy, const char* hook, const char* filter, const char* check,
                   std::string_view inval, const char* target) {
    b.add("cache", {{"strategy", strategy}, {"hook", hook}, {"filter", filter}, {"check", check},
                    {"invalidator", std::string(inval)}, {"target", target}});
  };
  // 1. Every wait strategy and hook against every invalidator on the cache's own page:
  //    stale use, lost events and torn reads can only happen here.
  for (const char* s : kStrategies)
    for (const char* h : kHooks)
      for (InvalidatorType t : types) cache(s, h, "global", "rwlock", invalidator_name(t), "cache");
  // 2. Unrelated invalidations (the livelock's trigger) with the two cheapest page movers.
  for (const char* s : kStrategies)
    for (const char* h : kHooks)
      for (const char* inval : {"mremap", "zap"}) cache(s, h, "global", "rwlock", inval, "unrelated");
  // 3. Range filtering and lockless readers change who sees an invalidation: one waiting
  //    and one non-waiting strategy, both hooks, the page-moving invalidator.
  for (auto [filter, check] : std::array<std::pair<const char*, const char*>, 3>{
           {{"range", "rwlock"}, {"global", "lockless"}, {"range", "lockless"}}})
    for (const char* s : {"busy", "block"})
      for (const char* h : kHooks) cache(s, h, filter, check, "mremap", "cache");
  // 4. Layer K: the running kernel's pvclock cache with one and two vCPUs (two update their
  //    pages concurrently), then under each invalidator; and event sends through the
  //    kernel's shared_info cache (xen-evtchn) the same way, where it has Xen emulation.
  b.add("pvclock", {{"vcpus", "1"}});
  b.add("pvclock", {{"vcpus", "2"}});
  for (InvalidatorType t : types)
    // One vCPU: with an invalidator thread beside it, the plan fits a 2-PU machine without
    // --overcommit (a second vCPU would share a PU and measure the scheduler instead).
    b.add("pvclock", {{"vcpus", "1"}, {"invalidator", std::string(invalidator_name(t))}, {"target", "cache"}});
  for (const char* inval : {"mremap", "zap"})
    b.add("pvclock", {{"vcpus", "1"}, {"invalidator", inval}, {"target", "unrelated"}});
  b.add("xen-evtchn", {{"vcpus", "2"}});
  for (InvalidatorType t : types)
    b.add("xen-evtchn", {{"vcpus", "1"}, {"invalidator", std::string(invalidator_name(t))}, {"target", "cache"}});
  for (const char* inval : {"mremap", "zap"})
    b.add("xen-evtchn", {{"vcpus", "1"}, {"invalidator", inval}, {"target", "unrelated"}});
  return std::move(b.out);
}

std::vector<Combination> filter_combinations(const std::vector<Combination>& all, const std::string& substring) {
  std::vector<Combination> out;
  for (const auto& c : all)
    if (substring.empty() || c.id.find(substring) != std::string::npos) out.push_back(c);
  return out;
}

}  // namespace gpc::stress
