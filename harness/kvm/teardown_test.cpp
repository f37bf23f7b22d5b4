// A run interrupted by SIGINT tears everything down: no VM, vCPU thread, mapping or fd left.
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/stop.hpp"
#include "gpc_guest/abi.h"
#include "kvm/guest_vm.hpp"
#include "kvm/kvm_test_support.hpp"
#include "kvm/vcpu_supervisor.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GPC_SANITIZED 1  // sanitizer runtimes map and unmap memory on their own
#else
#define GPC_SANITIZED 0
#endif

namespace gpc::kvm {
namespace {

using namespace std::chrono_literals;

std::set<std::string> dir_entries(const char* path) {
  std::set<std::string> out;
  if (DIR* d = opendir(path)) {
    while (dirent* e = readdir(d)) out.insert(e->d_name);
    closedir(d);
  }
  return out;
}

std::vector<std::string> maps_lines() {
  std::ifstream in("/proc/self/maps");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

size_t kvm_mappings() {
  size_t n = 0;
  for (const std::string& l : maps_lines())
    if (l.find("anon_inode:kvm") != std::string::npos) ++n;  // kvm_run mmaps
  return n;
}

// Runs a 2-vCPU pvclock guest for up to 30 s and interrupts it with a real SIGINT
// after `after`. Returns the outcomes.
std::vector<VcpuRunResult> interrupted_pvclock_run(std::chrono::milliseconds after) {
  Kvm kvm;
  GuestVm g(kvm, {"pvclock", 2, nullptr});
  for (int i = 0; i < 2; ++i) {
    gpc_guest_boot& b = g.boot(i);
    b.duration_ns = 30'000'000'000;
    b.sync_interval_ns = 10'000'000;
    b.pvclock_gpa = GuestVm::data_gpa(i);
    b.hist_gpa = GuestVm::data_gpa(i) + 0x1000;
  }
  std::vector<std::unique_ptr<VcpuThread>> threads;
  std::vector<VcpuThread*> raw;
  for (int i = 0; i < 2; ++i) {
    threads.push_back(std::make_unique<VcpuThread>(g.vcpu(i), -1));
    raw.push_back(threads.back().get());
  }
  EXPECT_GT(kvm_mappings(), 0u) << "kvm_run mappings not visible in /proc/self/maps";
  std::thread interrupter([after] {
    std::this_thread::sleep_for(after);
    ::kill(::getpid(), SIGINT);  // a real signal, through gpc's handler
  });
  SupervisorOptions o;
  o.time_limit = 60s;
  auto results = run_vcpus(raw, o);
  interrupter.join();
  return results;
}

TEST(Teardown, SigintEndsTheRunAndReleasesEverything) {
  GPC_REQUIRE_KVM();
  install_stop_signal_handlers();
  // Warm-up: glibc caches thread stacks and malloc arenas after the first threads exit.
  interrupted_pvclock_run(50ms);
  reset_stop();

  const auto fds_before = dir_entries("/proc/self/fd");
  const auto tasks_before = dir_entries("/proc/self/task");
  const auto maps_before = maps_lines();
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = interrupted_pvclock_run(300ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGINT);
  reset_stop();

  EXPECT_LT(took, 20s) << "SIGINT did not end a 30 s run promptly";
  for (const auto& r : results) EXPECT_EQ(r.outcome, VcpuOutcome::Stopped) << r.message;
  EXPECT_EQ(dir_entries("/proc/self/fd"), fds_before);
  EXPECT_EQ(dir_entries("/proc/self/task"), tasks_before);
  EXPECT_EQ(kvm_mappings(), 0u);
  if (!GPC_SANITIZED) {
    EXPECT_EQ(maps_lines(), maps_before);
  }
}

TEST(Teardown, RequestStopBeforeStartEndsAtOnce) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  GuestVm g(kvm, {"selftest", 1, nullptr});
  g.boot(0).mode = GPC_SELFTEST_HANG;
  VcpuThread t(g.vcpu(0), -1);
  request_stop();
  t.start({});
  const VcpuRunResult r = t.take_result();
  reset_stop();
  EXPECT_EQ(r.outcome, VcpuOutcome::Stopped);
}

TEST(Teardown, KickEndsAGuestSpinningInKvmRun) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  GuestVm g(kvm, {"selftest", 1, nullptr});
  g.boot(0).mode = GPC_SELFTEST_HANG;
  VcpuThread t(g.vcpu(0), -1);
  t.start({});
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(t.wait(0ns));
  t.kick();
  ASSERT_TRUE(t.wait(10s)) << "kick did not get the vCPU out of KVM_RUN";
  EXPECT_EQ(t.take_result().outcome, VcpuOutcome::Stopped);
}

}  // namespace
}  // namespace gpc::kvm
