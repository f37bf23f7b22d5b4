// The session as a layer-K run will own it. Without /dev/kvm no kvm event fires, so here
// this checks what a run without a VM gets: every facility with its state and reason,
// zero counts from a working instance, nothing left behind, and no ktrace counter at all
// where tracing cannot work.
#include "trace/kernel_evidence.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "results/result_file.hpp"
#include "trace/trace_instance.hpp"
#include "trace/tracefs_root.hpp"

namespace gpc::trace {
namespace {

const Facility* find(const KernelEvidence& ev, const std::string& name) {
  for (const Facility& f : ev.facilities())
    if (f.name == name) return &f;
  return nullptr;
}

int own_instances(const std::string& tracefs) {
  int n = 0;
  const std::string mine = kInstancePrefix + std::to_string(::getpid()) + "-";
  if (DIR* d = ::opendir((tracefs + "/instances").c_str())) {
    while (const dirent* e = ::readdir(d)) n += std::string(e->d_name).rfind(mine, 0) == 0 ? 1 : 0;
    ::closedir(d);
  }
  return n;
}

TEST(KernelEvidence, EveryFacilityIsListedWithItsStateAndReason) {
  EvidenceOptions o;
  o.cache_hva = 0x200000;
  KernelEvidence ev(o);
  const Facility* tracefs = find(ev, "tracefs");
  ASSERT_NE(tracefs, nullptr);
  if (!tracefs->available) GTEST_SKIP() << "tracefs is not usable here: " << tracefs->reason;
  for (const char* e : {"kvm_unmap_hva_range", "kvm_pvclock_update", "kvm_exit"}) {
    const Facility* f = find(ev, std::string("tracepoint:kvm:") + e);
    ASSERT_NE(f, nullptr) << e;
    if (!f->available) {
      EXPECT_NE(f->reason.find("kvm"), std::string::npos) << f->reason;
    }
  }
  bool probe_listed = false;
  for (const Facility& f : ev.facilities())
    if (f.name.rfind("kprobe:", 0) == 0) {
      probe_listed = true;
      EXPECT_TRUE(f.available || !f.reason.empty()) << f.name << " unavailable without a reason";
    }
  EXPECT_TRUE(probe_listed);
}

TEST(KernelEvidence, ARunWithoutAVmGetsZeroCountsAndLeavesNoInstance) {
  std::string tracefs_path;
  {
    std::string reason;
    auto root = TracefsRoot::open(reason);
    if (!root) GTEST_SKIP() << "tracefs is not usable here: " << reason;
    EvidenceOptions o;
    o.cache_hva = 0x200000;
    KernelEvidence ev(o);
    if (!ev.tracing()) GTEST_SKIP() << "no kvm tracepoints here: " << ev.facilities().back().reason;
    EXPECT_EQ(own_instances(root->path()), 1);
    ev.start();
    ev.stop();
    BenchmarkRecord rec;
    nlohmann::json ctx = nlohmann::json::object();
    ev.add_counters(rec, ctx, {1000, 50});
    EXPECT_EQ(rec.counters.at("ktrace_unmap_hva_range"), 0);
    EXPECT_EQ(rec.counters.at("ktrace_unmap_hva_range_cache"), 0);
    EXPECT_EQ(rec.counters.at("ktrace_invalidations_per_op"), 0);  // 0 of 50 ops reached a VM's notifier
    EXPECT_EQ(rec.counters.at("ktrace_pvclock_writes_per_update"), 0);
    EXPECT_EQ(rec.counters.at("ktrace_exits"), 0);
    EXPECT_EQ(rec.counters.at("ktrace_events_lost"), 0);
    EXPECT_TRUE(ctx["kernel_evidence"]["facilities"].is_array());
    EXPECT_EQ(ctx["kernel_evidence"]["process"], ::getpid());
    EXPECT_EQ(ev.probing(), rec.counters.count("ktrace_refreshes") == 1);
    // With op stamps the per-op figure comes from matching, and the delay histogram exists.
    ev.set_host_ops({{static_cast<pid_t>(::gettid()), 1, 2, 0}});
    BenchmarkRecord matched;
    ev.add_counters(matched, ctx, {1000, 50});
    EXPECT_EQ(matched.counters.at("ktrace_ops_reaching_kvm"), 0);
    EXPECT_EQ(matched.histograms.count("ktrace_notifier_delay"), 1u);
    tracefs_path = root->path();
  }
  std::string reason;
  auto root = TracefsRoot::open(reason);
  ASSERT_NE(root, nullptr) << reason;
  EXPECT_EQ(own_instances(root->path()), 0) << "the session left its instance behind";
}

TEST(KernelEvidence, WithoutTracefsTheRunGetsReasonsAndNoCounters) {
  if (!find_mounted_tracefs().empty()) GTEST_SKIP() << "tracefs is mounted here; this checks a machine without it";
  EvidenceOptions o;
  o.allow_private_mount = false;
  o.refresh_probe = false;
  KernelEvidence ev(o);
  EXPECT_FALSE(ev.tracing());
  ev.start();
  ev.stop();
  BenchmarkRecord rec;
  nlohmann::json ctx = nlohmann::json::object();
  ev.add_counters(rec, ctx, {10, 10});
  EXPECT_TRUE(rec.counters.empty()) << "counters without tracing would be invented numbers";
  const auto& f = ctx["kernel_evidence"]["facilities"][0];
  EXPECT_EQ(f["name"], "tracefs");
  EXPECT_EQ(f["available"], false);
  EXPECT_NE(f["reason"].get<std::string>().find("not mounted"), std::string::npos);
}

}  // namespace
}  // namespace gpc::trace
