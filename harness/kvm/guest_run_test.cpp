// Embedded guests end to end: long mode, ucalls, guest assertions, pvclock against
// KVM_GET_CLOCK, two vCPUs in parallel, and the watchdog.
#include <unistd.h>

#include <numeric>
#include <thread>

#include <gtest/gtest.h>

#include "common/histogram.hpp"
#include "gpc_guest/abi.h"
#include "kvm/guest_vm.hpp"
#include "kvm/kvm_test_support.hpp"
#include "kvm/vcpu_supervisor.hpp"
#include "kvm/vcpu_thread.hpp"
#include "kvm/x86_long_mode.hpp"
#include "common/loglinear.h"

namespace gpc::kvm {
namespace {

using namespace std::chrono_literals;

std::vector<VcpuRunResult> run_all(GuestVm& g, const std::vector<int>& pus, SupervisorOptions o) {
  std::vector<std::unique_ptr<VcpuThread>> threads;
  std::vector<VcpuThread*> raw;
  for (int i = 0; i < g.vcpu_count(); ++i) {
    threads.push_back(std::make_unique<VcpuThread>(g.vcpu(i), pus.empty() ? -1 : pus[i]));
    raw.push_back(threads.back().get());
  }
  return run_vcpus(raw, o);
}

VcpuRunResult run_selftest(uint32_t mode, uint64_t iterations = 0) {
  Kvm kvm;
  GuestVm g(kvm, {"selftest", 1, nullptr});
  g.boot(0).mode = mode;
  g.boot(0).iterations = iterations;
  SupervisorOptions o;
  o.time_limit = 20s;
  return run_all(g, {}, o).at(0);
}

TEST(GuestRun, LongModeReached) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  GuestVm g(kvm, {"selftest", 1, nullptr});
  g.boot(0).mode = GPC_SELFTEST_LONG_MODE;
  VcpuThread t(g.vcpu(0), -1);
  // A 1 ns host deadline ends the run at the first exit: the guest's SYNC of its registers.
  VcpuRunOptions o;
  o.host_deadline = 1ns;
  t.start(o);
  const VcpuRunResult r = t.take_result();
  ASSERT_EQ(r.outcome, VcpuOutcome::HostDeadline) << r.message;
  ASSERT_TRUE(r.last_ucall);
  ASSERT_EQ(r.last_ucall->kind, UcallKind::Sync);
  ASSERT_EQ(r.last_ucall->values.size(), 4u);
  EXPECT_EQ(r.last_ucall->values[0] & kLongModeCr0, kLongModeCr0) << "CR0";
  EXPECT_EQ(r.last_ucall->values[1] & 0x20, 0x20u) << "CR4.PAE";
  EXPECT_EQ(r.last_ucall->values[2] & 0x500, 0x500u) << "EFER.LME|LMA";
  EXPECT_EQ(r.last_ucall->values[3], kCodeSelector);
}

TEST(GuestRun, UcallRoundTrip) {
  GPC_REQUIRE_KVM();
  const VcpuRunResult r = run_selftest(GPC_SELFTEST_ECHO, 50);
  ASSERT_EQ(r.outcome, VcpuOutcome::Done) << r.message;
  EXPECT_EQ(r.ucalls, 51u);  // 50 SYNCs and DONE
  EXPECT_GT(r.stats.at("exits"), 50.0);
}

TEST(GuestRun, GuestAssertionSurfacesWithFileAndLine) {
  GPC_REQUIRE_KVM();
  const VcpuRunResult r = run_selftest(GPC_SELFTEST_ASSERT, 7);
  ASSERT_EQ(r.outcome, VcpuOutcome::GuestAssert) << r.message;
  try {
    throw_on_failure({r});
    FAIL() << "no exception for a guest assertion";
  } catch (const GuestAssertionError& e) {
    EXPECT_EQ(e.file(), "guests/selftest.c");
    EXPECT_GT(e.line(), 0u);
    const std::string what = e.what();
    EXPECT_NE(what.find("guests/selftest.c:" + std::to_string(e.line())), std::string::npos) << what;
    EXPECT_NE(what.find("boot->iterations == 12345"), std::string::npos) << what;
    EXPECT_NE(what.find("0x7"), std::string::npos) << what;
  }
}

TEST(GuestRun, PvclockConsistentWithKvmGetClock) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  GuestVm g(kvm, {"pvclock", 1, nullptr});
  gpc_guest_boot& b = g.boot(0);
  b.duration_ns = 150'000'000;
  b.sync_interval_ns = 20'000'000;
  b.pvclock_gpa = GuestVm::data_gpa(0);
  b.hist_gpa = GuestVm::data_gpa(0) + 0x1000;
  const uint64_t before = g.vm().get_clock().clock;
  SupervisorOptions o;
  o.time_limit = 20s;
  const VcpuRunResult r = run_all(g, {}, o).at(0);
  const uint64_t after = g.vm().get_clock().clock;
  ASSERT_EQ(r.outcome, VcpuOutcome::Done) << r.message;
  ASSERT_TRUE(r.report);
  const auto& c = r.report->values;
  ASSERT_EQ(c.size(), static_cast<size_t>(GPC_PVC_COUNT));
  EXPECT_GT(c[GPC_PVC_UPDATES], 0u);
  EXPECT_EQ(c[GPC_PVC_ODD] + c[GPC_PVC_BACKWARDS] + c[GPC_PVC_STALE], 0u);
  EXPECT_LE(before, c[GPC_PVC_LAST_NS]);
  EXPECT_GE(after, c[GPC_PVC_LAST_NS]);
  EXPECT_GE(c[GPC_PVC_LAST_NS] - before, b.duration_ns) << "guest deadline not reached";
  // The guest's histogram holds one sample per update.
  const auto* hist = g.vm().gpa_ptr<uint64_t[GPC_LL_BUCKETS]>(b.hist_gpa);
  EXPECT_EQ(std::accumulate(std::begin(*hist), std::end(*hist), uint64_t{0}), c[GPC_PVC_UPDATES]);
  EXPECT_GT(r.stats.at("exits"), 0.0);
}

TEST(GuestRun, TwoVcpusRunInParallelOnTwoPus) {
  GPC_REQUIRE_KVM();
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs 2 online PUs";
  Kvm kvm;
  GuestVm g(kvm, {"selftest", 2, nullptr});
  for (int i = 0; i < 2; ++i) {
    g.boot(i).mode = GPC_SELFTEST_RENDEZVOUS;
    g.boot(i).shared_gpa = GPC_GUEST_DATA_GPA;
  }
  SupervisorOptions o;
  o.time_limit = 20s;
  const auto rs = run_all(g, {0, 1}, o);
  for (const auto& r : rs) {
    ASSERT_EQ(r.outcome, VcpuOutcome::Done) << r.message;
  }
  EXPECT_EQ(rs[0].pu, 0);
  EXPECT_EQ(rs[1].pu, 1);
  // Neither guest can leave the rendezvous before the other arrived.
  EXPECT_EQ(*g.vm().gpa_ptr<uint64_t>(GPC_GUEST_DATA_GPA), 2u);
}

TEST(GuestRun, WatchdogCatchesAGuestThatNeverSendsDone) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  GuestVm g(kvm, {"selftest", 1, nullptr});
  g.boot(0).mode = GPC_SELFTEST_HANG;
  SupervisorOptions o;
  o.time_limit = 30s;
  o.watchdog = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  const VcpuRunResult r = run_all(g, {}, o).at(0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << "watchdog did not fire";
  ASSERT_EQ(r.outcome, VcpuOutcome::Hung) << r.message;
  EXPECT_NE(r.message.find("no ucall for"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("SYNC stage 1"), std::string::npos) << r.message;
  EXPECT_THROW(throw_on_failure({r}), HungVcpuError);
}

TEST(GuestRun, TimeLimitAsksGuestsToStopThenKicks) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  GuestVm g(kvm, {"pingpong", 1, nullptr});
  SupervisorOptions o;
  o.time_limit = 100ms;
  o.watchdog = 0ns;
  o.request_guest_stop = [&g] { g.request_guest_stop(); };
  const VcpuRunResult r = run_all(g, {}, o).at(0);
  ASSERT_EQ(r.outcome, VcpuOutcome::Done) << r.message;
  ASSERT_TRUE(r.report);
  EXPECT_EQ(r.report->values.at(GPC_PP_EXITS), r.bench_exits);
  EXPECT_GT(r.bench_exits, 0u);
}

}  // namespace
}  // namespace gpc::kvm
