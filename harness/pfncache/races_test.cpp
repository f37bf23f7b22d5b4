// BRIEF §7: each historical race as a forced interleaving. The same scenario runs on the
// faithful model (must pass) and on the variant with the bug put back (the detector must
// fire). Threads are ordered by sync points and observable state, never by sleeping.
#include <thread>

#include <gtest/gtest.h>

#include "pfncache/test_fixture.hpp"

namespace gpc::pfncache {
namespace {
using namespace testing;

Policy with_bug(Bug b, Policy p = policy()) {
  p.bug = b;
  return p;
}

// --- 1. refresh vs invalidate_range_start ordering (use of a freed pfn) ------------------
// The invalidator is parked right after its cache walk. A refresh runs in that window;
// the faithful model sees the raised count and keeps retrying; with the count raised after
// the walk the refresh re-validates the cache, and the user writes to a page whose
// invalidation has already returned from range_start.
struct CountOrderOutcome {
  ContractStats stats;
  RefreshResult refresh;
};
CountOrderOutcome run_count_order(Bug bug) {
  Fixture f(with_bug(bug));
  EXPECT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  SyncPoint walked;
  std::atomic<bool> once{false};
  f.vm.set_test_hook([&](NotifierPhase p, uintptr_t, uintptr_t) {
    if (p == NotifierPhase::kStartCachesInvalidated && !once.exchange(true)) walked.arrive();
  });
  std::thread inv([&] { f.vm.invalidate_range_start(hva(0), hva(1)); });
  EXPECT_TRUE(walked.wait_arrived());
  std::atomic<bool> refreshed{false};
  RefreshResult rr = RefreshResult::kFault;
  const uint64_t calls0 = f.resolver.calls();
  std::thread ref([&] {
    rr = f.gpc.refresh(8);
    refreshed = true;
  });
  // Either the refresh finished (bug) or it resolved twice (it retried).
  EXPECT_TRUE(eventually([&] { return refreshed.load() || f.resolver.calls() >= calls0 + 2; }));
  walked.release();
  inv.join();
  f.user_write();  // range_start for page 0 has returned
  f.table.set(0, f.next_offset);
  f.vm.invalidate_range_end(hva(0), hva(1));
  ref.join();
  f.user_write();
  return {f.checker.stats(), rr};
}

TEST(Races, CountRaisedBeforeCacheWalkFaithful) {
  auto o = run_count_order(Bug::kNone);
  EXPECT_EQ(o.refresh, RefreshResult::kOk);
  EXPECT_EQ(o.stats.violations(), 0u);
  EXPECT_EQ(o.stats.accesses, 1u);  // only the write after range_end got through check()
}

TEST(Races, CountRaisedAfterCacheWalkIsCaught) {
  auto o = run_count_order(Bug::kCountAfterInvalidate);
  EXPECT_GE(o.stats.use_after_start, 1u);
  EXPECT_GE(o.stats.stale, 1u);  // and the cache never learned about the move
}

// --- 2. speculative valid with NULL khva --------------------------------------------------
ContractStats run_speculative(Bug bug) {
  Fixture f(with_bug(bug));
  EXPECT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);  // cache invalid
  SyncPoint resolving;
  f.resolver.set_before([&](uint64_t call, uintptr_t) {
    if (call == 2) resolving.arrive();
  });
  std::thread ref([&] { EXPECT_EQ(f.gpc.refresh(8), RefreshResult::kOk); });
  EXPECT_TRUE(resolving.wait_arrived());
  f.user_write();  // the refresh is in its unlocked window
  resolving.release();
  ref.join();
  EXPECT_EQ(f.user_write(), Access::kOk);
  return f.checker.stats();
}

TEST(Races, ValidOnlyAfterMappingFaithful) {
  auto s = run_speculative(Bug::kNone);
  EXPECT_EQ(s.violations(), 0u);
  EXPECT_EQ(s.accesses, 1u);
}

TEST(Races, SpeculativeValidWithNullKhvaIsCaught) {
  EXPECT_GE(run_speculative(Bug::kSpeculativeValid).null_khva, 1u);
}

// --- 3. concurrent refreshes with a stale address (refresh mutex) -------------------------
ContractStats run_concurrent_refresh(Bug bug) {
  Fixture f(with_bug(bug));
  EXPECT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  SyncPoint a_resolved;
  f.resolver.set_after([&](uint64_t call, uintptr_t) {
    if (call == 2) a_resolved.arrive();
  });
  std::thread a([&] { f.gpc.refresh(hva(1), 8); });
  EXPECT_TRUE(a_resolved.wait_arrived());
  std::atomic<bool> b_done{false};
  std::thread b([&] {
    f.gpc.refresh(hva(2), 8);
    b_done = true;
  });
  EXPECT_TRUE(eventually([&] { return b_done.load() || f.gpc.refresh_lock_contended() > 0; }));
  a_resolved.release();
  a.join();
  b.join();
  EXPECT_EQ(f.gpc.uhva(), hva(2));  // the later refresh's address wins either way
  f.user_write();
  return f.checker.stats();
}

TEST(Races, RefreshesSerializedFaithful) {
  auto s = run_concurrent_refresh(Bug::kNone);
  EXPECT_EQ(s.violations(), 0u);
  EXPECT_EQ(s.accesses, 1u);
}

TEST(Races, UnserializedRefreshesInstallAStaleMappingIsCaught) {
  EXPECT_GE(run_concurrent_refresh(Bug::kNoRefreshMutex).stale, 1u);
}

// --- 4. inactive cache consumed after deactivate ------------------------------------------
struct InactiveOutcome {
  ContractStats stats;
  GpcAudit audit;
  RefreshResult refresh;
};
InactiveOutcome run_inactive(Bug bug) {
  Fixture f(with_bug(bug));
  EXPECT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.gpc.deactivate();
  const RefreshResult r = f.gpc.refresh(8);  // e.g. a vCPU racing the teardown
  f.swap(0);                                  // the unlisted cache hears nothing
  f.user_write();
  return {f.checker.stats(), f.gpc.audit(), r};
}

TEST(Races, InactiveCacheRefusedFaithful) {
  auto o = run_inactive(Bug::kNone);
  EXPECT_EQ(o.refresh, RefreshResult::kInactive);
  EXPECT_EQ(o.stats.accesses, 0u);
  EXPECT_EQ(o.audit.violations(), 0u);
}

TEST(Races, InactiveCacheConsumedIsCaught) {
  auto o = run_inactive(Bug::kConsumeInactive);
  EXPECT_EQ(o.refresh, RefreshResult::kOk);
  EXPECT_GE(o.stats.stale, 1u);
  EXPECT_TRUE(o.audit.valid_while_inactive);
}

// --- 5. rwlock re-initialised while in use -----------------------------------------------
struct ReinitOutcome {
  ContractStats stats;
  GpcAudit audit;
};
ReinitOutcome run_reinit(Bug bug) {
  Fixture f(with_bug(bug));
  EXPECT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  SyncPoint reading, inv_hold;
  std::thread reader([&] {
    auto g = f.gpc.read_lock();
    ASSERT_TRUE(f.gpc.check(8));
    reading.arrive();
    f.checker.write_u64(f.gpc, 0, 1);
  });
  EXPECT_TRUE(reading.wait_arrived());
  std::atomic<bool> activated{false}, started{false};
  std::thread act([&] {
    f.gpc.activate(hva(0), 8);  // a second activation (e.g. the guest re-registers the page)
    activated = true;
  });
  EXPECT_TRUE(eventually([&] { return activated.load() || f.gpc.lock().writers_waiting() >= 1; }));
  std::thread inv([&] {
    f.vm.invalidate_range_start(hva(0), hva(1));
    started = true;
    inv_hold.arrive();
    f.vm.invalidate_range_end(hva(0), hva(1));
  });
  EXPECT_TRUE(eventually([&] { return started.load() || f.gpc.lock().writers_waiting() >= 2; }));
  reading.release();
  reader.join();
  inv_hold.release();
  inv.join();
  act.join();
  return {f.checker.stats(), f.gpc.audit()};
}

TEST(Races, LockInitialisedOnceFaithful) {
  auto o = run_reinit(Bug::kNone);
  EXPECT_EQ(o.stats.violations(), 0u);
  EXPECT_EQ(o.audit.violations(), 0u);
}

TEST(Races, LockReinitialisedUnderReaderIsCaught) {
  auto o = run_reinit(Bug::kReinitLock);
  EXPECT_GE(o.stats.use_after_start, 1u);
  EXPECT_GE(o.audit.lock_unbalanced_unlocks, 1u);
}

// --- 6. deactivate during refresh's unlocked window ---------------------------------------
struct DeactivateOutcome {
  GpcAudit audit;
  uint64_t live_mappings_after;
};
DeactivateOutcome run_deactivate_in_refresh(Bug bug) {
  Fixture f(with_bug(bug));
  EXPECT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);
  SyncPoint resolved;
  f.resolver.set_after([&](uint64_t call, uintptr_t) {
    if (call == 2) resolved.arrive();
  });
  std::thread ref([&] { f.gpc.refresh(8); });
  EXPECT_TRUE(resolved.wait_arrived());
  std::atomic<bool> deactivated{false};
  std::thread deact([&] {
    f.gpc.deactivate();
    deactivated = true;
  });
  EXPECT_TRUE(eventually([&] { return deactivated.load() || f.gpc.refresh_lock_contended() > 0; }));
  resolved.release();
  ref.join();
  deact.join();
  return {f.gpc.audit(), f.resolver.live_mappings()};
}

TEST(Races, DeactivateSerializedWithRefreshFaithful) {
  auto o = run_deactivate_in_refresh(Bug::kNone);
  EXPECT_EQ(o.audit.violations(), 0u);
  EXPECT_EQ(o.live_mappings_after, 0u);
}

TEST(Races, DeactivateInRefreshWindowIsCaught) {
  auto o = run_deactivate_in_refresh(Bug::kDeactivateInRefresh);
  EXPECT_TRUE(o.audit.valid_while_inactive);
  EXPECT_TRUE(o.audit.valid_but_unlisted);
  EXPECT_EQ(o.live_mappings_after, 1u);  // a mapping no invalidation can reach
}

// --- 7. the inner-loop `continue` of the v3 review ----------------------------------------
struct ContinueOutcome {
  RefreshResult refresh;
  GpcAudit audit;
};
ContinueOutcome run_inner_continue(Bug bug) {
  Fixture f(policy(WaitKind::kBlock, Hook::kStart, Filter::kRange, ReaderCheck::kRwlock, bug));
  EXPECT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.vm.invalidate_range_start(hva(0), hva(1));
  std::atomic<bool> done{false};
  RefreshResult r = RefreshResult::kFault;
  std::thread ref([&] {
    r = f.gpc.refresh(8);
    done = true;
  });
  EXPECT_TRUE(eventually([&] { return done.load() || f.vm.wake_word().waiters() > 0; }));
  f.vm.invalidate_range_end(hva(0), hva(1));
  ref.join();
  return {r, f.gpc.audit()};
}

TEST(Races, WaitLoopWithoutRelockFaithful) {
  auto o = run_inner_continue(Bug::kNone);
  EXPECT_EQ(o.refresh, RefreshResult::kOk);
  EXPECT_EQ(o.audit.violations(), 0u);
}

TEST(Races, InnerContinueSelfDeadlockIsCaught) {
  auto o = run_inner_continue(Bug::kInnerContinue);
  EXPECT_EQ(o.refresh, RefreshResult::kDeadlock);
  EXPECT_GE(o.audit.lock_self_deadlocks, 1u);
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
