// The probe reader through a uprobe on a function of this test binary (the kprobe PMU has
// the same interface and is missing on the machines this was written on), the PMU lookup
// on a fake sysfs tree, the refresh symbol choice, and the pairing of entries and returns.
#include "trace/probe_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "trace/host_ops.hpp"

// The probed function: never inlined, spins for `ns` (a lower bound on its latency).
extern "C" [[gnu::noinline]] void gpc_trace_probe_target(uint64_t ns) {
  const uint64_t until = gpc::trace::mono_now_ns() + ns;
  while (gpc::trace::mono_now_ns() < until) {
  }
  asm volatile("" ::: "memory");
}

namespace gpc::trace {
namespace {

std::unique_ptr<ProbeReader> uprobe_reader(std::string& reason) {
  const ProbeSpec spec = uprobe_of(reinterpret_cast<const void*>(&gpc_trace_probe_target), "gpc_trace_probe_target");
  return ProbeReader::open(spec, ::getpid(), reason);
}

TEST(ProbeReader, UprobeCountsEveryCallAndItsLatency) {
  std::string reason;
  auto reader = uprobe_reader(reason);
  if (!reader) GTEST_SKIP() << "no uprobe here: " << reason;
  reader->start(std::chrono::milliseconds(2));
  // 10 bursts of 600 calls: 12,000 samples, 4x what the per-CPU rings hold, so they wrap;
  // the pause lets the drain thread keep up.
  constexpr int kBursts = 10, kPerBurst = 600;
  for (int b = 0; b < kBursts; ++b) {
    for (int i = 0; i < kPerBurst; ++i) gpc_trace_probe_target(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  constexpr int kSlow = 20;
  constexpr uint64_t kSlowNs = 200'000;
  std::thread([] {
    for (int i = 0; i < kSlow; ++i) gpc_trace_probe_target(kSlowNs);
  }).join();
  reader->stop();
  const CallStats s = reader->result();
  ASSERT_EQ(reader->lost(), 0u) << "the drain thread fell behind";
  EXPECT_EQ(s.calls, static_cast<uint64_t>(kBursts * kPerBurst + kSlow));
  EXPECT_EQ(s.unmatched_entries + s.unmatched_returns, 0u);
  // The slow calls spin 200 us each: the top 20 latencies are at least that.
  EXPECT_GE(s.latency_ns.max(), kSlowNs);
  EXPECT_GE(s.latency_ns.quantile(1.0 - (kSlow - 1.0) / static_cast<double>(s.calls)), kSlowNs);
  EXPECT_LT(s.latency_ns.quantile(0.5), kSlowNs);
}

TEST(ProbeReader, CallsOfOtherProcessesAreNotCounted) {
  std::string reason;
  auto reader = uprobe_reader(reason);
  if (!reader) GTEST_SKIP() << "no uprobe here: " << reason;
  reader->start(std::chrono::milliseconds(2));
  const pid_t child = ::fork();
  if (child == 0) {
    for (int i = 0; i < 100; ++i) gpc_trace_probe_target(0);
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  for (int i = 0; i < 7; ++i) gpc_trace_probe_target(0);
  reader->stop();
  EXPECT_EQ(reader->result().calls, 7u);
}

TEST(ProbeReader, AMissingKprobeTargetGivesAReasonNotAnError) {
  std::string reason;
  auto reader = ProbeReader::open({ProbeKind::kprobe, "gpc_no_such_kernel_function", 0, "x"}, 0, reason);
  EXPECT_EQ(reader, nullptr);
  EXPECT_FALSE(reason.empty());
  const bool pmu = find_probe_pmu(ProbeKind::kprobe).available;
  EXPECT_NE(reason.find(pmu ? "no such kernel symbol" : "no kprobe PMU"), std::string::npos) << reason;
}

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gpc-trace-pmu-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "uprobe/format");
    std::ofstream(dir_ / "uprobe/type") << "9\n";
    std::ofstream(dir_ / "uprobe/format/retprobe") << "config:3\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FakeSysfs, PmuTypeAndRetprobeBitAreRead) {
  const ProbePmu u = find_probe_pmu(ProbeKind::uprobe, dir_.string());
  ASSERT_TRUE(u.available) << u.reason;
  EXPECT_EQ(u.type, 9u);
  EXPECT_EQ(u.retprobe_bit, 3);
  const ProbePmu k = find_probe_pmu(ProbeKind::kprobe, dir_.string());
  EXPECT_FALSE(k.available);
  EXPECT_NE(k.reason.find("CONFIG_KPROBE_EVENTS"), std::string::npos) << k.reason;
}

TEST(RefreshSymbol, PrefersTheInnerFunctionAndSkipsWhatIsNotListed) {
  std::string reason;
  EXPECT_EQ(pick_refresh_symbol("ffffffff8128b400 T kvm_gpc_refresh\nffffffff8128ab90 t __kvm_gpc_refresh\n", reason),
            "__kvm_gpc_refresh");
  EXPECT_EQ(pick_refresh_symbol("ffffffffc0a1b400 T kvm_gpc_refresh\t[kvm]\n", reason), "kvm_gpc_refresh");
  // A data symbol of that name is not a function.
  EXPECT_EQ(pick_refresh_symbol("ffffffff8128b400 d __kvm_gpc_refresh\n", reason), "");
  EXPECT_NE(reason.find("neither"), std::string::npos);
  EXPECT_EQ(pick_refresh_symbol("", reason), "");
  EXPECT_NE(reason.find("unreadable"), std::string::npos);
}

TEST(CallPairing, PairsPerThreadInTimeOrderWithRecursion) {
  // Thread 1: a(10..50) containing b(20..30); thread 2: c(15..25); the hits arrive out of
  // order, as from two CPUs' buffers.
  std::vector<ProbeHit> hits = {{30, 1, true}, {25, 2, true}, {10, 1, false}, {50, 1, true},
                                {20, 1, false}, {15, 2, false}};
  const CallStats s = pair_calls(hits);
  EXPECT_EQ(s.calls, 3u);
  EXPECT_EQ(s.unmatched_entries + s.unmatched_returns, 0u);
  EXPECT_EQ(s.latency_ns.max(), 40u);  // a, not b+something
  EXPECT_EQ(s.latency_ns.min(), 10u);
}

TEST(CallPairing, CallsCutByStartOrStopAreCountedApart) {
  // A return whose entry came before start, an entry still running at stop.
  const CallStats s = pair_calls({{5, 1, true}, {7, 1, false}, {9, 1, true}, {11, 1, false}});
  EXPECT_EQ(s.calls, 1u);
  EXPECT_EQ(s.unmatched_returns, 1u);
  EXPECT_EQ(s.unmatched_entries, 1u);
  EXPECT_EQ(s.latency_ns.max(), 2u);
}

}  // namespace
}  // namespace gpc::trace
