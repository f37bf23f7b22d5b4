#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "invalidators/runner.hpp"
#include "invalidators/test_support.hpp"
#include "memory/memfd_region.hpp"
#include "results/result_file.hpp"
#include "trace/host_ops.hpp"

namespace gpc {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::unique_ptr<Invalidator>> one(InvalidatorType type, GuestRegion& g, InvalidatorConfig cfg = {}) {
  std::vector<std::unique_ptr<Invalidator>> v;
  v.push_back(make_invalidator(type, g, cfg));
  return v;
}

TEST(Runner, HoldsTheRequestedRateAsARatio) {
  MemfdRegion g({.size = 2u << 20});
  // Free-running first, to pick a rate well below what this machine can do right now.
  InvalidatorRunner free_run(one(InvalidatorType::zap, g, {.verify = false}), {});
  free_run.run_for(std::chrono::milliseconds(100));
  const double free_rate = free_run.stats()[0].ops_per_s();
  ASSERT_GT(free_rate, 0);
  const double rate = std::min(2000.0, free_rate / 10);
  // Up to three tries: on a loaded machine a paced thread can miss its CPU for a while, but
  // a broken controller (never pacing, or never running) fails every try.
  double ratio = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    InvalidatorRunner paced(one(InvalidatorType::zap, g, {.verify = false}), {}, {.rate_hz = rate});
    paced.run_for(std::chrono::milliseconds(400));
    ratio = paced.stats()[0].ops_per_s() / rate;
    EXPECT_LT(ratio, 1.1) << "rate " << rate << " Hz, got " << paced.stats()[0].ops_per_s();
    if (ratio > 0.6) break;
  }
  EXPECT_GT(ratio, 0.6) << "rate " << rate << " Hz: below 60% of it in three tries";
}

TEST(Runner, StopsOnAStopRequestAndJoins) {
  MemfdRegion g({.size = 2u << 20, .spare_pages = 4});
  test::RecordingListener listener;
  InvalidatorRunner runner(one(InvalidatorType::mremap, g, {.listener = &listener}), {0}, {.rate_hz = 1});
  // Stop once the first (immediate) operation's bracket is complete; bounded so a runner
  // that never runs still ends the test.
  std::thread requester([&listener] {
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (listener.calls().size() < 2 && Clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    request_stop();
  });
  const auto t0 = Clock::now();
  runner.run_for(std::chrono::seconds(60));
  const auto took = Clock::now() - t0;
  requester.join();
  reset_stop();
  EXPECT_FALSE(runner.running());
  EXPECT_LT(took, std::chrono::seconds(30));  // far below the 60 s asked for
  EXPECT_GE(runner.stats()[0].ops, 1u);
  EXPECT_EQ(listener.calls().size(), 2 * runner.stats()[0].ops);  // no half-open bracket
}

TEST(Runner, StopFromAnotherThreadAndCountersPerContract) {
  MemfdRegion g({.size = 4u << 20, .spare_pages = 8});
  std::vector<std::unique_ptr<Invalidator>> v;
  v.push_back(make_invalidator(InvalidatorType::mremap, g, {.target = Target::cache}));
  v.push_back(make_invalidator(InvalidatorType::mmap_fixed, g, {.target = Target::unrelated}));
  v.push_back(make_invalidator(InvalidatorType::zap, g, {.target = Target::neighbour}));
  InvalidatorRunner runner(std::move(v), {0, 1, -1});
  runner.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  runner.stop();
  const auto& st = runner.stats();
  ASSERT_EQ(st.size(), 3u);
  BenchmarkRecord rec;
  runner.add_counters(rec);
  uint64_t total = 0;
  for (const auto& s : st) {
    EXPECT_GT(s.ops, 0u) << invalidator_name(s.type);
    EXPECT_EQ(s.content_lost, 0u);
    EXPECT_EQ(s.bracket_ns.count(), s.ops);
    total += s.ops;
  }
  EXPECT_EQ(rec.counters.at("inval_ops"), static_cast<double>(total));
  EXPECT_EQ(rec.counters.at("inval_mremap_ops"), static_cast<double>(st[0].ops));
  EXPECT_EQ(rec.counters.at("inval_mmap_fixed_ops"), static_cast<double>(st[1].ops));
  for (const char* k : {"inval_ops_per_s", "inval_p50_ns", "inval_p99_ns", "inval_pfn_changed", "inval_thp_changed",
                        "inval_unverified"})
    EXPECT_TRUE(rec.counters.count(k)) << k;
  EXPECT_EQ(rec.histograms.at("inval").count(), total);
  if (Pagemap().pfns_readable()) {
    EXPECT_EQ(st[0].pfn_changed, st[0].ops);  // every mremap swapped the page
    EXPECT_EQ(st[2].pfn_changed, 0u);         // zap refaults the same page
  }
  EXPECT_LE(rec.counters.at("inval_p50_ns"), rec.counters.at("inval_p99_ns"));
}

// An invalidator whose operation fails: the runner must stop everything and rethrow.
class FailingInvalidator final : public Invalidator {
 public:
  explicit FailingInvalidator(GuestRegion& g) : Invalidator(InvalidatorType::zap, g, {}) {}
  bool operate() override {
    if (++calls_ == 3) throw SystemError("madvise", EINVAL);
    return true;
  }
  int calls_ = 0;
};

TEST(Runner, AFailedOperationStillEndsItsBracket) {
  MemfdRegion g({.size = 2u << 20});
  test::RecordingListener listener;
  class Failing final : public Invalidator {
   public:
    Failing(GuestRegion& r, MmuNotifierListener* l) : Invalidator(InvalidatorType::zap, r, {.listener = l}) {}
    bool operate() override { throw SystemError("madvise", EINVAL); }
  } inv(g, &listener);
  EXPECT_THROW(inv.step(), SystemError);
  const auto calls = listener.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[0].start);
  EXPECT_FALSE(calls[1].start);
}

TEST(Runner, AThreadErrorStopsTheRunAndIsRethrown) {
  MemfdRegion g({.size = 2u << 20});
  std::vector<std::unique_ptr<Invalidator>> v;
  v.push_back(std::make_unique<FailingInvalidator>(g));
  v.push_back(make_invalidator(InvalidatorType::zap, g, {}));
  InvalidatorRunner runner(std::move(v), {});
  EXPECT_THROW(runner.run_for(std::chrono::seconds(60)), SystemError);
  EXPECT_FALSE(runner.running());
  EXPECT_EQ(runner.stats()[0].ops, 2u);
}

// An invalidator that notes when and on which thread each of its operations ran.
class StampedInvalidator final : public Invalidator {
 public:
  explicit StampedInvalidator(GuestRegion& g) : Invalidator(InvalidatorType::zap, g, {.verify = false}) {}
  bool operate() override {
    std::lock_guard lock(mutex_);
    seen_.push_back({gettid(), trace::mono_now_ns(), 0, 0});
    return true;
  }
  std::vector<trace::HostOp> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::vector<trace::HostOp> seen_;
};

TEST(Runner, StampsEveryOperationInItsSlotAroundTheOperation) {
  MemfdRegion g({.size = 2u << 20});
  std::vector<std::unique_ptr<Invalidator>> v;
  for (int i = 0; i < 2; ++i) v.push_back(std::make_unique<StampedInvalidator>(g));
  std::vector<StampedInvalidator*> inv{static_cast<StampedInvalidator*>(v[0].get()),
                                       static_cast<StampedInvalidator*>(v[1].get())};
  trace::HostOpLog log(2, 1 << 16);
  InvalidatorRunner runner(std::move(v), {}, {.rate_hz = 2000, .op_log = &log});
  runner.run_for(std::chrono::milliseconds(100));
  const std::vector<trace::HostOp> ops = log.ops();
  ASSERT_EQ(log.dropped(), 0u);
  for (size_t slot = 0; slot < 2; ++slot) {
    std::vector<trace::HostOp> mine;
    for (const auto& op : ops)
      if (op.slot == slot) mine.push_back(op);
    const std::vector<trace::HostOp> seen = inv[slot]->seen();
    ASSERT_EQ(mine.size(), runner.stats()[slot].ops) << "slot " << slot;
    ASSERT_EQ(mine.size(), seen.size()) << "slot " << slot;
    ASSERT_GE(mine.size(), 1u);
    for (size_t k = 0; k < mine.size(); ++k) {
      EXPECT_EQ(mine[k].tid, seen[k].tid) << "slot " << slot << " op " << k << ": stamped on another thread";
      EXPECT_NE(mine[k].tid, gettid());
      EXPECT_LE(mine[k].begin_ns, seen[k].begin_ns) << "slot " << slot << " op " << k;
      EXPECT_GE(mine[k].end_ns, seen[k].begin_ns) << "slot " << slot << " op " << k;
    }
  }
}

TEST(Runner, BadPuIsAUsageErrorFromStop) {
  MemfdRegion g({.size = 2u << 20});
  InvalidatorRunner runner(one(InvalidatorType::zap, g), {100000});
  EXPECT_THROW(runner.run_for(std::chrono::seconds(60)), UsageError);
}

}  // namespace
}  // namespace gpc
