// The order of the steps inside hva_to_pfn_retry per design (issue 12 items 2 and 5):
// where mmu_invalidate_seq is snapshotted, and where a waiting strategy waits. Each test
// forces the interleaving through Gpc's test hook and checks what the design implies
// (how many resolves and retries), never a time.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "pfncache/race_fixture.hpp"
#include "pfncache/sync_point.hpp"

namespace gpc::pfncache {
namespace {
using namespace fixture;

// Upstream busy takes the snapshot under gpc->lock at the top of each turn: an
// invalidation of guest memory that completes after the lock is dropped and before
// hva_to_pfn moves seq past the snapshot, and the turn is retried.
TEST(RefreshOrder, BusySnapshotsSeqUnderTheLock) {
  Fixture f(policy(WaitKind::kBusy));
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);
  std::atomic<int> dropped{0};
  f.gpc.set_test_hook([&](GpcPhase p) {
    if (p == GpcPhase::kLockDropped && dropped++ == 0) {
      f.vm.invalidate_range_start(hva(5), hva(6));  // unrelated page, guest memory
      f.vm.invalidate_range_end(hva(5), hva(6));
    }
  });
  const GpcStats before = f.gpc.stats();
  EXPECT_EQ(f.gpc.refresh(8), RefreshResult::kOk);
  const GpcStats after = f.gpc.stats();
  EXPECT_EQ(after.retries - before.retries, 1u);
  EXPECT_EQ(after.hva_to_pfn - before.hva_to_pfn, 2u);
}

// The waiting strategies snapshot just before hva_to_pfn, after their wait
// (Christopherson's rework, patch 1/5): the invalidation they waited for has bumped seq
// before the snapshot, so the refresh completes without a retry.
class WaitingStrategy : public ::testing::TestWithParam<WaitKind> {};

TEST_P(WaitingStrategy, SnapshotsSeqAfterItsWait) {
  Fixture f(policy(GetParam()));
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);
  std::atomic<bool> dropped{false};
  f.gpc.set_test_hook([&](GpcPhase p) {
    if (p == GpcPhase::kLockDropped) dropped = true;
  });
  f.vm.invalidate_range_start(hva(5), hva(6));  // held: the refresh must wait for it
  const GpcStats before = f.gpc.stats();
  RefreshResult r = RefreshResult::kFault;
  std::thread refresher([&] { r = f.gpc.refresh(8); });
  ASSERT_TRUE(eventually([&] { return dropped.load(); }));
  f.vm.invalidate_range_end(hva(5), hva(6));
  refresher.join();
  const GpcStats after = f.gpc.stats();
  EXPECT_EQ(r, RefreshResult::kOk);
  EXPECT_EQ(after.retries - before.retries, 0u);
  EXPECT_EQ(after.hva_to_pfn - before.hva_to_pfn, 1u);
}

INSTANTIATE_TEST_SUITE_P(Strategies, WaitingStrategy,
                         ::testing::Values(WaitKind::kSpin, WaitKind::kHaltPoll, WaitKind::kBlock),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

// v3 4/5 (hook=end) resolves and maps first, then waits for the pending invalidation,
// relocks, and retries because that invalidation's range_end cleared needs_invalidation:
// two resolves per collision. Waiting before the resolve (the old model) saved one.
class EndHookWait : public ::testing::TestWithParam<WaitKind> {};

TEST_P(EndHookWait, ResolvesThenWaitsThenRetries) {
  Fixture f(policy(GetParam(), Hook::kEnd, Filter::kRange));
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);  // invalid now (range_end walk)
  std::atomic<bool> resolved{false};
  f.gpc.set_test_hook([&](GpcPhase p) {
    if (p == GpcPhase::kResolved) resolved = true;
  });
  f.vm.invalidate_range_start(hva(0), hva(1));  // the cache's own page, held
  const GpcStats before = f.gpc.stats();
  RefreshResult r = RefreshResult::kFault;
  std::thread refresher([&] { r = f.gpc.refresh(8); });
  const bool resolved_first = eventually([&] { return resolved.load(); }, std::chrono::seconds(5));
  f.table.set(0, f.next_offset);  // the page moves inside the bracket
  f.vm.invalidate_range_end(hva(0), hva(1));
  refresher.join();
  EXPECT_TRUE(resolved_first) << "the refresh did not resolve while the invalidation pended";
  const GpcStats after = f.gpc.stats();
  EXPECT_EQ(r, RefreshResult::kOk);
  EXPECT_EQ(after.hva_to_pfn - before.hva_to_pfn, 2u);
  EXPECT_EQ(after.retries - before.retries, 1u);
  EXPECT_EQ(f.user_write(), Access::kOk);
}

INSTANTIATE_TEST_SUITE_P(Strategies, EndHookWait,
                         ::testing::Values(WaitKind::kSpin, WaitKind::kHaltPoll, WaitKind::kBlock),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

// Issue 12 mutant 1: range_end must wake blocked refreshes when the active count reaches
// zero (v3 3/5 wake_up(&kvm->gpc_invalidate_wq)). With the slice far above the bound,
// a missing wake shows as a refresh still asleep seconds after range_end (liveness).
class BlockedRefresh : public ::testing::TestWithParam<std::pair<WaitKind, Hook>> {};

TEST_P(BlockedRefresh, RangeEndWakesIt) {
  Policy p = policy(GetParam().first, GetParam().second, Filter::kRange);
  p.block_slice = std::chrono::seconds(60);
  p.refresh_bound = std::chrono::seconds(120);
  Fixture f(p);
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);
  f.vm.invalidate_range_start(hva(0), hva(1));
  std::atomic<bool> done{false};
  RefreshResult r = RefreshResult::kFault;
  std::thread refresher([&] {
    r = f.gpc.refresh(8);
    done = true;
  });
  const bool asleep = eventually([&] { return f.vm.wake_word().waiters() > 0; });
  f.vm.invalidate_range_end(hva(0), hva(1));
  const bool woken = eventually([&] { return done.load(); }, std::chrono::seconds(5));
  if (!woken) f.vm.wake_word().wake_all();  // release it, so the test ends either way
  refresher.join();
  EXPECT_TRUE(asleep) << "the refresh never blocked";
  EXPECT_TRUE(woken) << "range_end did not wake the blocked refresh";
  EXPECT_EQ(r, RefreshResult::kOk);
  EXPECT_EQ(f.gpc.stats().slice_timeouts, 0u);
}

INSTANTIATE_TEST_SUITE_P(Strategies, BlockedRefresh,
                         ::testing::Values(std::pair{WaitKind::kBlock, Hook::kStart},
                                           std::pair{WaitKind::kHaltPoll, Hook::kStart},
                                           std::pair{WaitKind::kBlock, Hook::kEnd}),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param.first)) + "_" +
                                  std::string(to_string(param_info.param.second));
                         });

// Issue 12 mutant 2: hva_to_pfn_retry marks the cache invalid before it drops the lock.
// uhva already names the new address then, so a concurrent check() cannot tell the old
// mapping is wrong by the address: it must see valid == false.
TEST(RefreshOrder, MovedCacheIsInvalidWhileTheLockIsDropped) {
  Fixture f;
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  SyncPoint resolving;
  f.resolver.set_before([&](uint64_t call, uintptr_t) {
    if (call == 2) resolving.arrive();
  });
  std::thread refresher([&] { EXPECT_EQ(f.gpc.refresh(hva(1), 8), RefreshResult::kOk); });
  ASSERT_TRUE(resolving.wait_arrived());
  const auto during = f.user_write();
  resolving.release();
  refresher.join();
  EXPECT_EQ(during, std::nullopt) << "check() passed on a cache whose uhva had moved";
  EXPECT_EQ(f.user_write(), Access::kOk);
  EXPECT_EQ(f.checker.stats().violations(), 0u);
}

}  // namespace
}  // namespace gpc::pfncache
