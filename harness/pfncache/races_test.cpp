// BRIEF §7: each historical race as a forced interleaving (race_scenarios.cpp, shared
// with `gpcbench stress --self-test`). The same scenario runs on the faithful model (must
// pass) and with the bug put back (the race's own detector must fire). Threads are
// ordered by sync points and observable state, never by sleeping.
#include <thread>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "pfncache/race_scenarios.hpp"
#include "pfncache/race_fixture.hpp"

namespace gpc::pfncache {
namespace {
using namespace fixture;

RaceOutcome faithful(Bug race) {
  RaceOutcome o = run_race(race, false);
  EXPECT_TRUE(o.scenario_ok) << o.detail;
  EXPECT_FALSE(o.detected) << o.detail;
  return o;
}

RaceOutcome broken(Bug race) {
  RaceOutcome o = run_race(race, true);
  EXPECT_TRUE(o.scenario_ok) << o.detail;
  EXPECT_TRUE(o.detected) << o.detail;
  return o;
}

// 1. refresh vs invalidate_range_start ordering (use of a freed pfn)
TEST(Races, CountRaisedBeforeCacheWalkFaithful) {
  auto o = faithful(Bug::kCountAfterInvalidate);
  EXPECT_EQ(o.refresh, RefreshResult::kOk);
  EXPECT_EQ(o.contract.accesses, 1u);  // only the write after range_end got through check()
}

TEST(Races, CountRaisedAfterCacheWalkIsCaught) {
  auto o = broken(Bug::kCountAfterInvalidate);
  EXPECT_GE(o.contract.use_after_start, 1u) << o.detail;
  EXPECT_GE(o.contract.stale, 1u) << o.detail;  // and the cache never learned of the move
}

// 2. speculative valid with NULL khva
TEST(Races, ValidOnlyAfterMappingFaithful) {
  EXPECT_EQ(faithful(Bug::kSpeculativeValid).contract.accesses, 1u);
}

TEST(Races, SpeculativeValidWithNullKhvaIsCaught) {
  EXPECT_GE(broken(Bug::kSpeculativeValid).contract.null_khva, 1u);
}

// 3. concurrent refreshes with a stale address (refresh mutex)
TEST(Races, RefreshesSerializedFaithful) {
  EXPECT_EQ(faithful(Bug::kNoRefreshMutex).contract.accesses, 1u);
}

TEST(Races, UnserializedRefreshesInstallAStaleMappingIsCaught) {
  EXPECT_GE(broken(Bug::kNoRefreshMutex).contract.stale, 1u);
}

// 4. inactive cache consumed after deactivate
TEST(Races, InactiveCacheRefusedFaithful) {
  auto o = faithful(Bug::kConsumeInactive);
  EXPECT_EQ(o.refresh, RefreshResult::kInactive);
  EXPECT_EQ(o.contract.accesses, 0u);
}

TEST(Races, InactiveCacheConsumedIsCaught) {
  auto o = broken(Bug::kConsumeInactive);
  EXPECT_EQ(o.refresh, RefreshResult::kOk);
  EXPECT_GE(o.contract.stale, 1u);
  EXPECT_TRUE(o.audit.valid_while_inactive);
}

// 5. rwlock re-initialised while in use
TEST(Races, LockInitialisedOnceFaithful) { faithful(Bug::kReinitLock); }

TEST(Races, LockReinitialisedUnderReaderIsCaught) {
  auto o = broken(Bug::kReinitLock);
  EXPECT_GE(o.contract.use_after_start, 1u);
  EXPECT_GE(o.audit.lock_unbalanced_unlocks, 1u);
}

// 6. deactivate during refresh's unlocked window
TEST(Races, DeactivateSerializedWithRefreshFaithful) {
  EXPECT_EQ(faithful(Bug::kDeactivateInRefresh).live_mappings, 0u);
}

TEST(Races, DeactivateInRefreshWindowIsCaught) {
  auto o = broken(Bug::kDeactivateInRefresh);
  EXPECT_TRUE(o.audit.valid_while_inactive);
  EXPECT_TRUE(o.audit.valid_but_unlisted);
  EXPECT_EQ(o.live_mappings, 1u);  // a mapping no invalidation can reach
}

// 7. the inner-loop `continue` of the v3 review
TEST(Races, WaitLoopWithoutRelockFaithful) {
  EXPECT_EQ(faithful(Bug::kInnerContinue).refresh, RefreshResult::kOk);
}

TEST(Races, InnerContinueSelfDeadlockIsCaught) {
  auto o = broken(Bug::kInnerContinue);
  EXPECT_EQ(o.refresh, RefreshResult::kDeadlock);
  EXPECT_GE(o.audit.lock_self_deadlocks, 1u);
}

// 8. v3 1/5's invalidation predicate and a refresh from an error pfn (issue 12 item 5)
TEST(Races, EndHookRefreshFromErrorPfnRetriesFaithful) {
  auto o = faithful(Bug::kEndErrorPfn);
  EXPECT_EQ(o.refresh, RefreshResult::kOk);
  EXPECT_EQ(o.contract.accesses, 1u);
}

TEST(Races, EndHookPredicateSkippingErrorPfnInstallsAStalePageIsCaught) {
  auto o = broken(Bug::kEndErrorPfn);
  EXPECT_EQ(o.refresh, RefreshResult::kOk);
  EXPECT_GE(o.contract.stale, 1u) << o.detail;
}

// 6b. the same-pfn path of the deactivate race, on its own (run_race checks both paths)
TEST(Races, DeactivateSamePagePathFaithful) {
  const RaceOutcome o = run_deactivate_race(/*same_page=*/true, false);
  EXPECT_TRUE(o.scenario_ok) << o.detail;
  EXPECT_FALSE(o.detected) << o.detail;
  EXPECT_EQ(o.live_mappings, 0u);
}

TEST(Races, DeactivateSamePageReusesAReleasedKhvaIsCaught) {
  const RaceOutcome o = run_deactivate_race(/*same_page=*/true, true);
  EXPECT_TRUE(o.scenario_ok) << o.detail;
  EXPECT_TRUE(o.audit.valid_khva_unmapped) << o.detail;  // the reused khva was released
  EXPECT_TRUE(o.audit.valid_while_inactive) << o.detail;
}

// 9. syzbot cde12433b6c56f55d9ed: refresh of a cache without an address
TEST(Races, RefreshTestsActiveFirstFaithful) {
  auto o = faithful(Bug::kRefreshBeforeActive);
  EXPECT_EQ(o.refresh, RefreshResult::kInactive);
  EXPECT_EQ(o.audit.refresh_warnings, 0u);
}

TEST(Races, RefreshOfACacheWithoutAddressWarnsIsCaught) {
  auto o = broken(Bug::kRefreshBeforeActive);
  EXPECT_EQ(o.refresh, RefreshResult::kInactive);  // -EINVAL either way, after the WARN
  EXPECT_EQ(o.audit.refresh_warnings, 1u);
}

// 10. Xen runstate over two caches from sched-out (bbe17c625d68, 23e60258aeaf)
TEST(Races, RunstateTrylockGivesUpFaithful) {
  EXPECT_EQ(faithful(Bug::kRunstateBlockingLock).refresh, RefreshResult::kOk);
}

TEST(Races, RunstateBlockingReadLockDeadlockIsCaught) {
  EXPECT_EQ(broken(Bug::kRunstateBlockingLock).refresh, RefreshResult::kDeadlock);
}

TEST(Races, EveryHistoricalRaceHasAScenario) {
  EXPECT_EQ(historical_races().size(), 10u);
  EXPECT_THROW(run_race(Bug::kNone, false), UsageError);
}

// 8. livelock: see livelock_test.cpp; the library entry point agrees.
TEST(Races, LivelockEntryPointGlobalStarvesRangeCompletes) {
  const auto bound = std::chrono::milliseconds(50);
  EXPECT_FALSE(run_livelock(WaitKind::kBlock, Filter::kGlobal, bound).completed);
  EXPECT_TRUE(run_livelock(WaitKind::kBlock, Filter::kRange, bound).completed);
}

// --- lockless readers: the notifier waits for the read section before returning -----------
TEST(Races, LocklessReaderKeepsRangeStartFromReturning) {
  Fixture f(policy(WaitKind::kBusy, Hook::kStart, Filter::kGlobal, ReaderCheck::kLockless));
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  SyncPoint reading;
  std::thread reader([&] {
    auto g = f.gpc.read_lock();
    ASSERT_TRUE(f.gpc.check(8));
    reading.arrive();
    EXPECT_EQ(f.checker.write_u64(f.gpc, 0, 1), Access::kOk);
  });
  ASSERT_TRUE(reading.wait_arrived());
  std::atomic<bool> started{false};
  std::thread inv([&] {
    f.vm.invalidate_range_start(hva(0), hva(1));
    started = true;
  });
  ASSERT_TRUE(eventually([&] { return started.load() || f.gpc.reader_syncs_waited() > 0; }));
  EXPECT_FALSE(started.load());
  reading.release();
  reader.join();
  inv.join();
  f.vm.invalidate_range_end(hva(0), hva(1));
  EXPECT_EQ(f.checker.stats().violations(), 0u);
}

}  // namespace
}  // namespace gpc::pfncache
