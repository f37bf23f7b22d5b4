#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/stop.hpp"
#include "pfncache/race_fixture.hpp"
#include "pfncache/sync_point.hpp"

namespace gpc::pfncache {
namespace {
using namespace fixture;

struct Seen {
  NotifierPhase phase;
  int64_t count, in_progress;
  uint64_t seq;
  bool cache_valid;
};

TEST(Notifier, KernelOrderingOfCountCachesSeqAndInProgress) {
  Fixture f;
  std::vector<Seen> seen;
  f.vm.set_test_hook([&](NotifierPhase p, uintptr_t, uintptr_t) {
    seen.push_back({p, f.vm.active_count(), f.vm.in_progress(), f.vm.seq(), f.gpc.view().valid});
  });
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].phase, NotifierPhase::kStartCountRaised);
  EXPECT_EQ(seen[0].count, 1);
  EXPECT_TRUE(seen[0].cache_valid);  // count raised before any cache is touched
  EXPECT_EQ(seen[0].in_progress, 0);
  EXPECT_EQ(seen[1].phase, NotifierPhase::kStartCachesInvalidated);
  EXPECT_FALSE(seen[1].cache_valid);
  EXPECT_EQ(seen[1].in_progress, 0);  // in_progress rises only after the caches
  EXPECT_EQ(seen[2].phase, NotifierPhase::kStartReturning);
  EXPECT_EQ(seen[2].in_progress, 1);
  EXPECT_EQ(seen[3].phase, NotifierPhase::kEndSeqBumped);
  EXPECT_EQ(seen[3].seq, seen[2].seq + 1);
  EXPECT_EQ(seen[3].in_progress, 0);
  EXPECT_EQ(seen[3].count, 1);  // the count drops last
  EXPECT_EQ(seen[5].phase, NotifierPhase::kEndCountDropped);
  EXPECT_EQ(seen[5].count, 0);
}

TEST(Notifier, BrokenOrderRaisesCountAfterTheCacheWalk) {
  Fixture f(policy(WaitKind::kBusy, Hook::kStart, Filter::kGlobal, ReaderCheck::kRwlock,
                   Bug::kCountAfterInvalidate));
  std::vector<NotifierPhase> order;
  std::vector<int64_t> counts;
  f.vm.set_test_hook([&](NotifierPhase p, uintptr_t, uintptr_t) {
    order.push_back(p);
    counts.push_back(f.vm.active_count());
  });
  f.vm.invalidate_range_start(hva(0), hva(1));
  ASSERT_GE(order.size(), 2u);
  EXPECT_EQ(order[0], NotifierPhase::kStartCachesInvalidated);
  EXPECT_EQ(counts[0], 0);
  f.vm.invalidate_range_end(hva(0), hva(1));
}

TEST(Notifier, RangeMergesWhileSeveralAreActiveAndResetsAtZero) {
  Fixture f(policy(WaitKind::kBusy, Hook::kStart, Filter::kRange));
  f.vm.invalidate_range_start(hva(2), hva(3));
  EXPECT_TRUE(f.vm.range_pending(hva(2)));
  EXPECT_FALSE(f.vm.range_pending(hva(4)));
  f.vm.invalidate_range_start(hva(5), hva(6));
  EXPECT_TRUE(f.vm.range_pending(hva(4)));  // merged min/max covers the gap
  EXPECT_FALSE(f.vm.range_pending(hva(0)));
  f.vm.invalidate_range_end(hva(2), hva(3));
  EXPECT_TRUE(f.vm.range_pending(hva(4)));  // not shrunk until the count reaches zero
  f.vm.invalidate_range_end(hva(5), hva(6));
  EXPECT_FALSE(f.vm.range_pending(hva(5)));
  EXPECT_EQ(f.vm.active_count(), 0);
  f.vm.invalidate_range_end(hva(5), hva(6));  // unmatched
  EXPECT_EQ(f.vm.stats().unbalanced_ends, 1u);
  EXPECT_EQ(f.vm.active_count(), 0);
}

// Issue 12 item 4: the kernel reads the in-progress count and range with READ_ONCE
// (gpc_invalidate_in_progress_hva); a poll that took mn_invalidate_lock would contend with
// every range_start/range_end. Only the count transitions take the lock.
TEST(Notifier, RangePollsDoNotTakeMnInvalidateLock) {
  Fixture f(policy(WaitKind::kSpin, Hook::kStart, Filter::kRange));
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  f.swap(0);  // the cache is invalid now
  f.vm.invalidate_range_start(hva(3), hva(4));
  const uint64_t taken = f.vm.stats().mn_lock_taken;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(f.vm.range_pending(hva(3)));
    EXPECT_FALSE(f.vm.pending_for(hva(0)));
  }
  EXPECT_EQ(f.gpc.refresh(8), RefreshResult::kOk);  // polls the range while hva(3) pends
  EXPECT_EQ(f.vm.stats().mn_lock_taken, taken);
  f.vm.invalidate_range_end(hva(3), hva(4));
  EXPECT_FALSE(f.vm.range_pending(hva(3)));  // reset to empty at zero
}

// A thread inside the cache's read section until leave().
class ParkedReader {
 public:
  explicit ParkedReader(Gpc& gpc)
      : thread_([this, &gpc] {
          auto g = gpc.read_lock();
          reading_.arrive();
        }) {}
  ~ParkedReader() { leave(); }
  bool inside() { return reading_.wait_arrived(); }
  void leave() {
    reading_.release();
    if (thread_.joinable()) thread_.join();
  }

 private:
  SyncPoint reading_;
  std::thread thread_;
};

// Issue 12 item 3: since 21dadfcd665e (6.9) the walk looks at each cache under its read
// lock and write-locks only a valid cache whose uhva is in range. An invalidation of
// another page must not wait for a reader of this cache (liveness bound, not a timing).
TEST(Notifier, UnrelatedInvalidationDoesNotWaitForReaders) {
  Fixture f;
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  ParkedReader reader(f.gpc);
  ASSERT_TRUE(reader.inside());
  std::atomic<bool> started{false};
  std::thread inv([&] {
    f.vm.invalidate_range_start(hva(5), hva(6));
    started = true;
    f.vm.invalidate_range_end(hva(5), hva(6));
  });
  EXPECT_TRUE(eventually([&] { return started.load(); }, std::chrono::seconds(5)))
      << "an unrelated invalidation waited for the cache's reader";
  EXPECT_EQ(f.gpc.lock().writers_waiting(), 0u);
  reader.leave();
  inv.join();
  EXPECT_TRUE(f.gpc.view().valid);
}

// ... while an invalidation of the cache's own page still waits for the reader, and then
// invalidates the cache.
TEST(Notifier, RelatedInvalidationWaitsForReadersThenInvalidates) {
  Fixture f;
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  ParkedReader reader(f.gpc);
  ASSERT_TRUE(reader.inside());
  std::atomic<bool> started{false};
  std::thread inv([&] {
    f.vm.invalidate_range_start(hva(0), hva(1));
    started = true;
  });
  ASSERT_TRUE(eventually([&] { return f.gpc.lock().writers_waiting() > 0; }));
  EXPECT_FALSE(started.load());
  reader.leave();
  inv.join();
  EXPECT_FALSE(f.gpc.view().valid);
  f.vm.invalidate_range_end(hva(0), hva(1));
}

// Issue 12 item 9: kvm_mmu_invalidate_begin/_end run only when __kvm_handle_hva_range
// finds a memslot in the range, so only invalidations of guest memory move seq and
// in_progress; mn_active_invalidate_count still covers every range.
TEST(Notifier, SeqMovesOnlyForRangesThatHitGuestMemory) {
  Fixture f;  // guest memory: the fixture's kPages pages at kBase
  const uintptr_t outside = hva(kPages + 16);
  std::vector<Seen> seen;
  f.vm.set_test_hook([&](NotifierPhase p, uintptr_t, uintptr_t) {
    seen.push_back({p, f.vm.active_count(), f.vm.in_progress(), f.vm.seq(), false});
  });
  const uint64_t seq0 = f.vm.seq();
  f.vm.invalidate_range_start(outside, outside + kPageSize);
  f.vm.invalidate_range_end(outside, outside + kPageSize);
  EXPECT_EQ(f.vm.seq(), seq0);
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[2].count, 1);        // the active count covers every range
  EXPECT_EQ(seen[2].in_progress, 0);  // no memslot: no kvm_mmu_invalidate_begin
  f.vm.invalidate_range_start(hva(1), hva(2));
  EXPECT_EQ(f.vm.in_progress(), 1);
  f.vm.invalidate_range_end(hva(1), hva(2));
  EXPECT_EQ(f.vm.seq(), seq0 + 1);
  EXPECT_EQ(f.vm.in_progress(), 0);
  // A range that only overlaps the slot's last page hits it.
  f.vm.invalidate_range_start(hva(kPages - 1), hva(kPages + 4));
  f.vm.invalidate_range_end(hva(kPages - 1), hva(kPages + 4));
  EXPECT_EQ(f.vm.seq(), seq0 + 2);
  EXPECT_EQ(f.vm.stats().unbalanced_ends, 0u);
}

// Issue 12 item 8: __kvm_gpc_refresh re-resolves only when the cache is invalid or the
// page of uhva changed (hva_change); a memslot generation change alone, or a new offset
// in the same page, keeps the mapping.
TEST(Gpc, RefreshReResolvesOnlyWhenInvalidOrThePageMoved) {
  Fixture f;
  ASSERT_EQ(f.gpc.activate(hva(2), 8), RefreshResult::kOk);
  const uint64_t resolves = f.gpc.stats().hva_to_pfn;
  f.vm.bump_memslots_generation();
  EXPECT_EQ(f.user_write(), std::nullopt);  // check() sees the new generation
  EXPECT_EQ(f.gpc.refresh(8), RefreshResult::kOk);
  EXPECT_EQ(f.gpc.stats().hva_to_pfn, resolves) << "a generation change alone re-resolved";
  EXPECT_EQ(f.user_write(), Access::kOk);
  EXPECT_EQ(f.gpc.refresh(hva(2) + 64, 8), RefreshResult::kOk);  // same page, new offset
  EXPECT_EQ(f.gpc.stats().hva_to_pfn, resolves);
  EXPECT_EQ(f.gpc.view().khva - f.resolver.page(f.table.get(2)), 64);
  EXPECT_EQ(f.gpc.refresh(hva(3), 8), RefreshResult::kOk);  // another page
  EXPECT_EQ(f.gpc.stats().hva_to_pfn, resolves + 1);
  f.swap(3);
  EXPECT_EQ(f.gpc.refresh(8), RefreshResult::kOk);  // invalidated
  EXPECT_EQ(f.gpc.stats().hva_to_pfn, resolves + 2);
  EXPECT_EQ(f.checker.stats().violations(), 0u);
}

TEST(Gpc, ActivateCheckRefreshDeactivateAndCounters) {
  Fixture f;
  EXPECT_EQ(f.gpc.refresh(8), RefreshResult::kInactive);
  ASSERT_EQ(f.gpc.activate(hva(1) + 16, 8), RefreshResult::kOk);
  {
    auto g = f.gpc.read_lock();
    EXPECT_TRUE(f.gpc.check(8));
    EXPECT_FALSE(f.gpc.check(kPageSize));  // crosses the page
  }
  EXPECT_EQ(f.gpc.refresh(kPageSize), RefreshResult::kBadLength);
  EXPECT_EQ(f.user_write(7), Access::kOk);
  EXPECT_EQ(f.gpc.view().khva - f.resolver.page(f.table.get(1)), 16);
  f.vm.bump_memslots_generation();
  EXPECT_EQ(f.user_write(), std::nullopt);
  EXPECT_EQ(f.gpc.refresh(8), RefreshResult::kOk);
  EXPECT_EQ(f.user_write(), Access::kOk);
  f.gpc.deactivate();
  EXPECT_EQ(f.user_write(), std::nullopt);
  EXPECT_EQ(f.resolver.live_mappings(), 0u);
  const GpcStats s = f.gpc.stats();
  EXPECT_EQ(s.refreshes, s.refresh_ok + s.refresh_failed);
  EXPECT_EQ(s.refresh_failed, 2u);  // the inactive and the bad-length refresh
  EXPECT_EQ(f.gpc.audit().violations(), 0u);
  EXPECT_EQ(f.checker.stats().violations(), 0u);
}

}  // namespace
}  // namespace gpc::pfncache

namespace gpc::pfncache {
namespace {
using namespace fixture;

// Ctrl-C during a run: an invalidation that meets a reader inside its section must still
// wait for it and clear `valid`; giving up on the stop request would let the page move
// under a cache still marked valid (the stale writes a Ctrl-C'd `run cache` once counted).
TEST(Notifier, InvalidationWaitsForReadersEvenWhenStopIsRequested) {
  Fixture f;
  ASSERT_EQ(f.gpc.activate(hva(0), 8), RefreshResult::kOk);
  std::atomic<bool> inside{false}, release{false};
  std::thread reader([&] {
    auto g = f.gpc.read_lock();
    inside.store(true);
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!inside.load()) std::this_thread::yield();
  request_stop();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // well past 1024 spins
    release.store(true);
  });
  f.vm.invalidate_range_start(hva(0), hva(0) + kPageSize);
  const bool valid_after_start = f.gpc.view().valid;
  f.vm.invalidate_range_end(hva(0), hva(0) + kPageSize);
  releaser.join();
  reader.join();
  reset_stop();
  EXPECT_FALSE(valid_after_start) << "range_start returned with the cache still valid";
  EXPECT_EQ(f.gpc.audit().violations(), 0u);
}

}  // namespace
}  // namespace gpc::pfncache
