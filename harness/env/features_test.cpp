#include "env/features.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "env/environment.hpp"

namespace gpc {
namespace {

using nlohmann::json;

// A machine like the CI one: nested KVM without Xen, madvise THP, one NUMA node, no PMU.
json ci_like_env() {
  return json::parse(R"({
    "kernel": {"release": "6.18.44", "machine": "x86_64"},
    "topology": {"pus": 2, "cores": 2, "numa_nodes": 1},
    "numa": {"nodes": 1},
    "kvm": {"available": true, "reason": "", "api_version": 12,
            "caps": {"XEN_HVM": 0, "HALT_POLL": 1}},
    "thp": {"enabled": "madvise", "defrag": "madvise", "shmem_enabled": "never"},
    "perf": {"hardware_events": {"available": false,
             "reason": "no hardware PMU driver (ENOENT); running under a hypervisor without PMU passthrough?"}},
    "memory": {"memfd": {"works": true, "reason": ""}, "punch_hole": {"works": true, "reason": ""},
               "madv_collapse": {"works": true, "reason": ""},
               "pagemap": {"works": true, "reason": ""}, "kpageflags": {"works": true, "reason": ""},
               "compact_memory": {"works": true, "reason": ""},
               "move_pages": {"works": true, "reason": "page is on node 0"}}
  })");
}

Feature get(const json& env, const std::string& name) { return find_feature(probe_features(env), name); }

TEST(Features, XenNeedsTheCapability) {
  auto env = ci_like_env();
  auto f = get(env, "scenario:xen-shared-info");
  EXPECT_FALSE(f.runs_here);
  EXPECT_EQ(f.reason, "KVM_CAP_XEN_HVM=0: kernel built without CONFIG_KVM_XEN");
  env["kvm"]["caps"]["XEN_HVM"] = 0x3;
  EXPECT_EQ(get(env, "scenario:xen-shared-info").reason,
            "KVM_CAP_XEN_HVM=0x3 lacks KVM_XEN_HVM_CONFIG_SHARED_INFO: kernel older than 5.12");
  env["kvm"]["caps"]["XEN_HVM"] = 0x7f;
  EXPECT_TRUE(get(env, "scenario:xen-shared-info").runs_here);
}

TEST(Features, NoKvmStopsLayerKButNotTheEmbeddedCache) {
  auto env = ci_like_env();
  env["kvm"] = {{"available", false}, {"reason", "no /dev/kvm: the kvm module is not loaded"}};
  auto pv = get(env, "scenario:pvclock");
  EXPECT_FALSE(pv.runs_here);
  EXPECT_EQ(pv.reason, "no /dev/kvm: the kvm module is not loaded");
  EXPECT_EQ(get(env, "scenario:xen-shared-info").reason, pv.reason);
  EXPECT_EQ(get(env, "scenario:pingpong").reason, pv.reason);  // it runs a guest too (issue 15)
  EXPECT_FALSE(get(env, "scenario:pingpong").runs_here);
  auto cache = get(env, "scenario:cache");
  EXPECT_TRUE(cache.runs_here);
  EXPECT_NE(cache.reason.find("a host reader thread stands in"), std::string::npos);
  EXPECT_TRUE(get(ci_like_env(), "scenario:pvclock").runs_here);
}

TEST(Features, ThpInvalidatorsNeedThpAndCollapse) {
  auto env = ci_like_env();
  EXPECT_TRUE(get(env, "invalidator:thp-split").runs_here);
  EXPECT_TRUE(get(env, "invalidator:thp-collapse").runs_here);
  env["memory"]["madv_collapse"] = {{"works", false}, {"reason", "MADV_COLLAPSE needs Linux >= 6.1, this is 5.15.0"}};
  EXPECT_EQ(get(env, "invalidator:thp-collapse").reason, "MADV_COLLAPSE needs Linux >= 6.1, this is 5.15.0");
  env["thp"]["enabled"] = "never";
  auto split = get(env, "invalidator:thp-split");
  EXPECT_FALSE(split.runs_here);
  EXPECT_NE(split.reason.find("enabled=never"), std::string::npos);
}

TEST(Features, NumaFeaturesNeedTwoNodes) {
  auto env = ci_like_env();
  auto migrate = get(env, "invalidator:migrate");
  EXPECT_FALSE(migrate.runs_here);
  EXPECT_EQ(migrate.reason.rfind("1 NUMA node", 0), 0u) << migrate.reason;
  EXPECT_FALSE(get(env, "cross-node-migration").runs_here);
  env["numa"]["nodes"] = 2;
  EXPECT_TRUE(get(env, "invalidator:migrate").runs_here);
  EXPECT_TRUE(get(env, "cross-node-migration").runs_here);
}

TEST(Features, ShmemThpAndCompactAndCounters) {
  auto env = ci_like_env();
  EXPECT_EQ(get(env, "shmem-thp").reason, "shmem_enabled=never, set it to advise to enable");
  env["thp"]["shmem_enabled"] = "advise";
  EXPECT_TRUE(get(env, "shmem-thp").runs_here);
  auto compact = get(env, "invalidator:compact");
  EXPECT_TRUE(compact.runs_here);
  EXPECT_NE(compact.reason.find("explicit flag"), std::string::npos);
  env["memory"]["compact_memory"] = {{"works", false}, {"reason", "/proc/sys/vm/compact_memory is not writable"}};
  EXPECT_FALSE(get(env, "invalidator:compact").runs_here);
  auto hw = get(env, "hardware-counters");
  EXPECT_FALSE(hw.runs_here);
  EXPECT_EQ(hw.reason, "no hardware PMU driver (ENOENT); running under a hypervisor without PMU passthrough?");
}

TEST(Features, MissingFactsNeverClaimSupport) {
  for (const auto& f : probe_features(json::object())) {
    if (f.name == "shmem-thp" || f.name.rfind("scenario:cache", 0) == 0) continue;
    EXPECT_FALSE(f.runs_here) << f.name;
    EXPECT_FALSE(f.reason.empty()) << f.name;
  }
  EXPECT_THROW(find_feature(probe_features(json::object()), "warp-drive"), UsageError);
}

TEST(Features, RealMachineEveryFeatureHasAnAnswer) {
  const auto features = probe_features(capture_environment());
  EXPECT_GE(features.size(), 18u);
  for (const auto& f : features)
    if (!f.runs_here) {
      EXPECT_FALSE(f.reason.empty()) << f.name;
    }
}

}  // namespace
}  // namespace gpc
