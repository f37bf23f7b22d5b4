#include "pfncache/race_scenarios.hpp"

#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "pfncache/race_fixture.hpp"
#include "pfncache/runstate_user.hpp"

namespace gpc::pfncache {
namespace {
using namespace fixture;

// Collects the scenario's own preconditions: a bound that expired means the interleaving
// did not happen as designed, which must not read as "not detected".
struct Steps {
  bool ok = true;
  void require(bool reached) { ok = ok && reached; }
};

Policy base(Bug race, bool broken) {
  Policy p;
  p.bug = broken ? race : Bug::kNone;
  if (race == Bug::kInnerContinue) {  // v3 2/5: range tracking, a waiting strategy
    p.wait = WaitKind::kBlock;
    p.filter = Filter::kRange;
  }
  if (race == Bug::kEndErrorPfn) {  // v3 4/5: invalidation in range_end, block, range
    p.hook = Hook::kEnd;
    p.wait = WaitKind::kBlock;
    p.filter = Filter::kRange;
  }
  return p;
}

std::string stats_line(const ContractStats& s, const GpcAudit& a) {
  return fmt::format(
      "accesses={} use_after_start={} stale={} null_khva={} valid_inactive={} unlisted={} "
      "self_deadlocks={} unbalanced_unlocks={}",
      s.accesses, s.use_after_start, s.stale, s.null_khva, a.valid_while_inactive,
      a.valid_but_unlisted, a.lock_self_deadlocks, a.lock_unbalanced_unlocks);
}

// Scenarios return the refresh they judge (kOk where none is).

// 1. The invalidator is parked right after its cache walk; a refresh runs in that window.
// Faithful: it sees the raised count and retries. Broken (count raised after the walk): it
// re-validates the cache, and the user writes to a page whose range_start has returned.
RefreshResult count_order(Fixture& f, Steps& st) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  SyncPoint walked;
  std::atomic<bool> once{false};
  f.vm.set_test_hook([&](NotifierPhase p, uintptr_t, uintptr_t) {
    if (p == NotifierPhase::kStartCachesInvalidated && !once.exchange(true)) walked.arrive();
  });
  std::thread inv([&] { f.vm.invalidate_range_start(hva(0), hva(1)); });
  st.require(walked.wait_arrived());
  std::atomic<bool> refreshed{false};
  RefreshResult r = RefreshResult::kFault;
  const uint64_t calls0 = f.resolver.calls();
  std::thread ref([&] {
    r = f.gpc.refresh(8);
    refreshed = true;
  });
  // Either the refresh finished (broken) or it resolved twice (it retried).
  st.require(eventually([&] { return refreshed.load() || f.resolver.calls() >= calls0 + 2; }));
  walked.release();
  inv.join();
  f.user_write();  // range_start for page 0 has returned
  f.table.set(0, f.next_offset);
  f.vm.invalidate_range_end(hva(0), hva(1));
  ref.join();
  f.user_write();
  return r;
}

// 2. A user checks the cache while a refresh is in its unlocked window.
void speculative_valid(Fixture& f, Steps& st) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  f.swap(0);
  SyncPoint resolving;
  f.resolver.set_before([&](uint64_t call, uintptr_t) {
    if (call == 2) resolving.arrive();
  });
  std::thread ref([&] { f.gpc.refresh(8); });
  st.require(resolving.wait_arrived());
  f.user_write();
  resolving.release();
  ref.join();
  st.require(f.user_write() == Access::kOk);
}

// 3. Refresh A (to page 1) is parked after its lookup; refresh B (to page 2) runs.
void concurrent_refresh(Fixture& f, Steps& st) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  SyncPoint a_resolved;
  f.resolver.set_after([&](uint64_t call, uintptr_t) {
    if (call == 2) a_resolved.arrive();
  });
  std::thread a([&] { f.gpc.refresh(hva(1), 8); });
  st.require(a_resolved.wait_arrived());
  std::atomic<bool> b_done{false};
  std::thread b([&] {
    f.gpc.refresh(hva(2), 8);
    b_done = true;
  });
  st.require(eventually([&] { return b_done.load() || f.gpc.refresh_lock_contended() > 0; }));
  a_resolved.release();
  a.join();
  b.join();
  st.require(f.gpc.uhva() == hva(2));
  f.user_write();
}

// 4. A refresh after deactivate, then a move of the page the (unlisted) cache maps.
RefreshResult consume_inactive(Fixture& f, Steps& st) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  f.gpc.deactivate();
  const RefreshResult r = f.gpc.refresh(8);  // e.g. a vCPU racing the teardown
  f.swap(0);                                  // the unlisted cache hears nothing
  f.user_write();
  return r;
}

// 5. A reader holds gpc->lock; the cache is activated again; an invalidation comes.
void reinit_lock(Fixture& f, Steps& st) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  SyncPoint reading, inv_hold;
  std::thread reader([&] {
    auto g = f.gpc.read_lock();
    if (!f.gpc.check(8)) return;
    reading.arrive();
    f.checker.write_u64(f.gpc, 0, 1);
  });
  st.require(reading.wait_arrived());
  std::atomic<bool> activated{false}, started{false};
  std::thread act([&] {
    f.gpc.activate(hva(0), 8);
    activated = true;
  });
  st.require(eventually([&] { return activated.load() || f.gpc.lock().writers_waiting() >= 1; }));
  std::thread inv([&] {
    f.vm.invalidate_range_start(hva(0), hva(1));
    started = true;
    inv_hold.arrive();
    f.vm.invalidate_range_end(hva(0), hva(1));
  });
  // The walk looks under the read lock first (21dadfcd665e): behind the waiting writer
  // it waits as a reader; broken, it finds the lock re-initialised and goes through.
  st.require(eventually([&] {
    const SpinRwLock& l = f.gpc.lock();
    return started.load() || l.writers_waiting() + l.readers_waiting() >= 2;
  }));
  reading.release();
  reader.join();
  inv_hold.release();
  inv.join();
  act.join();
}

// 6. Refresh parked after its lookup; deactivate runs. The cache was made invalid by
// `invalidate` first: with the page moved, or (6b) with the same page kept.
void deactivate_in_refresh(Fixture& f, Steps& st, bool same_page) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  if (same_page) {
    // The same-pfn path: invalidated while the page stays (a zap that refaults the same
    // page), so the refresh finds the pfn unchanged and reuses the old khva, which a
    // deactivate not serialized with it has already released.
    f.vm.invalidate_range_start(hva(0), hva(1));
    f.vm.invalidate_range_end(hva(0), hva(1));
  } else {
    f.swap(0);
  }
  SyncPoint resolved;
  f.resolver.set_after([&](uint64_t call, uintptr_t) {
    if (call == 2) resolved.arrive();
  });
  std::thread ref([&] { f.gpc.refresh(8); });
  st.require(resolved.wait_arrived());
  std::atomic<bool> deactivated{false};
  std::thread deact([&] {
    f.gpc.deactivate();
    deactivated = true;
  });
  st.require(eventually([&] { return deactivated.load() || f.gpc.refresh_lock_contended() > 0; }));
  resolved.release();
  ref.join();
  deact.join();
}

// 7. A refresh meets an invalidation of its page that is still pending.
RefreshResult inner_continue(Fixture& f, Steps& st) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  f.vm.invalidate_range_start(hva(0), hva(1));
  std::atomic<bool> done{false};
  RefreshResult r = RefreshResult::kFault;
  std::thread ref([&] {
    r = f.gpc.refresh(8);
    done = true;
  });
  st.require(eventually([&] { return done.load() || f.vm.wake_word().waiters() > 0; }));
  f.vm.invalidate_range_end(hva(0), hva(1));
  ref.join();
  return r;
}

// 8. A refresh that starts from an error pfn (the first after activate; also one after
// a failed refresh) under hook=end: its page moves, bracketed, between its hva_to_pfn and
// its relock. Faithful: range_end clears needs_invalidation and the refresh retries.
// v3 1/5's predicate as posted also requires !is_error_noslot_pfn(gpc->pfn), and gpc->pfn
// is still the error pfn until the refresh installs the new one: range_end skips the
// cache, the flag stays set, and the refresh installs the page that was moved away.
RefreshResult end_error_pfn(Fixture& f, Steps& st) {
  std::atomic<bool> moved{false};
  f.resolver.set_after([&](uint64_t call, uintptr_t) {
    if (call != 1) return;  // activate's first resolve, with the lock dropped
    f.vm.invalidate_range_start(hva(0), hva(1));
    f.table.set(0, f.next_offset);
    f.vm.invalidate_range_end(hva(0), hva(1));
    moved = true;
  });
  const RefreshResult r = f.gpc.activate(hva(0), 8);
  st.require(moved.load());
  st.require(r == RefreshResult::kOk);
  f.user_write();
  return r;
}

// 9. A user's check() fails on a cache that never got an address and it falls back to
// refresh, as kvm_xen_set_evtchn() does after kvm_xen_set_evtchn_fast() returns
// -EWOULDBLOCK (syzbot cde12433b6c56f55d9ed's reproducer: KVM_XEN_HVM_EVTCHN_SEND before
// the cache is configured). A caller cannot test `active` itself: refresh_lock guards it
// (Christopherson, 9 Mar 2026).
RefreshResult refresh_without_address(Fixture& f, Steps& st) {
  st.require(f.user_write() == std::nullopt);
  return f.gpc.refresh(8);
}

// 10. The Xen runstate update from sched-out (B: runqueue lock held, runstate area on two
// caches) meets an event-channel user (A: holds gpc2's read lock, then needs the
// runqueue lock to kick a vCPU) and an invalidation of gpc2's page (C: a writer waiting
// for A). Faithful: B's read_trylock(gpc2) fails behind the waiting writer and B gives
// up. Broken: B's read_lock waits behind C, C waits for A, A waits for B: a cycle,
// observed with all three waiting, then broken by making A give up.
RefreshResult runstate_locks(Fixture& f, Steps& st, bool broken) {
  Gpc second(f.vm, f.resolver);
  st.require(f.gpc.activate(hva(1), 8) == RefreshResult::kOk);
  st.require(second.activate(hva(2), 8) == RefreshResult::kOk);
  RunstateUser user{f.gpc, second, f.checker, broken};
  std::mutex rq;  // rq->__lock
  std::atomic<bool> a_waits{false}, a_give_up{false}, b_holds{false}, b_done{false};
  SyncPoint a_reading;
  std::thread a([&] {
    auto g = second.read_lock();
    a_reading.arrive();
    a_waits = true;
    while (!a_give_up.load() && !rq.try_lock()) std::this_thread::yield();
    if (!a_give_up.load()) rq.unlock();
  });
  st.require(a_reading.wait_arrived());
  std::thread c([&] {
    f.vm.invalidate_range_start(hva(2), hva(3));
    f.vm.invalidate_range_end(hva(2), hva(3));
  });
  st.require(eventually([&] { return second.lock().writers_waiting() > 0; }));
  RunstateResult br = RunstateResult::kStopped;
  std::thread b([&] {
    std::lock_guard<std::mutex> g(rq);
    b_holds = true;
    br = user.update(/*atomic=*/true, 7);
    b_done = true;
  });
  st.require(eventually([&] { return b_holds.load(); }));
  a_reading.release();
  bool cycle = false;
  st.require(eventually([&] {
    cycle = !b_done.load() && a_waits.load() && second.lock().readers_waiting() > 0 &&
            second.lock().writers_waiting() > 0;
    return b_done.load() || cycle;
  }));
  if (cycle) a_give_up = true;
  a.join();
  c.join();
  b.join();
  st.require(br == RunstateResult::kSkipped);
  return cycle ? RefreshResult::kDeadlock : RefreshResult::kOk;
}

RaceOutcome outcome_of(Fixture& f, const Steps& st, RefreshResult r, Bug race, bool broken) {
  RaceOutcome out;
  out.race = race;
  out.broken = broken;
  const ContractStats cs = f.checker.stats();
  const GpcAudit audit = f.gpc.audit();
  // Any unexpected violation, model-invariant breach or deadlock counts as detected:
  // the faithful run must show none of them, the broken run at least one.
  out.detected = cs.violations() > 0 || audit.violations() > 0 ||
                 r == RefreshResult::kDeadlock || f.resolver.bad_unmaps() > 0;
  out.scenario_ok = st.ok;
  out.detail = stats_line(cs, audit) + fmt::format(" refresh={}", to_string(r));
  out.contract = cs;
  out.audit = audit;
  out.refresh = r;
  out.live_mappings = f.resolver.live_mappings();
  return out;
}

// Both paths of the deactivate race in one outcome: caught means caught on both paths,
// flagged means flagged on either.
RaceOutcome combine(RaceOutcome a, const RaceOutcome& b) {
  a.detected = a.broken ? a.detected && b.detected : a.detected || b.detected;
  a.scenario_ok = a.scenario_ok && b.scenario_ok;
  a.detail = "new page: " + a.detail + "; same page: " + b.detail;
  a.contract.accesses += b.contract.accesses;
  a.contract.use_after_start += b.contract.use_after_start;
  a.contract.stale += b.contract.stale;
  a.contract.null_khva += b.contract.null_khva;
  a.audit.valid_while_inactive = a.audit.valid_while_inactive || b.audit.valid_while_inactive;
  a.audit.mapped_while_inactive = a.audit.mapped_while_inactive || b.audit.mapped_while_inactive;
  a.audit.valid_but_unlisted = a.audit.valid_but_unlisted || b.audit.valid_but_unlisted;
  a.audit.valid_khva_unmapped = a.audit.valid_khva_unmapped || b.audit.valid_khva_unmapped;
  a.live_mappings += b.live_mappings;
  return a;
}

}  // namespace

RaceOutcome run_deactivate_race(bool same_page, bool broken) {
  Fixture f(base(Bug::kDeactivateInRefresh, broken));
  Steps st;
  deactivate_in_refresh(f, st, same_page);
  return outcome_of(f, st, RefreshResult::kOk, Bug::kDeactivateInRefresh, broken);
}

std::vector<Bug> historical_races() {
  return {Bug::kCountAfterInvalidate, Bug::kSpeculativeValid,   Bug::kNoRefreshMutex,
          Bug::kConsumeInactive,      Bug::kReinitLock,         Bug::kDeactivateInRefresh,
          Bug::kInnerContinue,        Bug::kEndErrorPfn,        Bug::kRefreshBeforeActive,
          Bug::kRunstateBlockingLock};
}

RaceOutcome run_race(Bug race, bool broken) {
  if (race == Bug::kNone) throw UsageError("run_race: name a race (a Bug other than none)");
  if (race == Bug::kDeactivateInRefresh)
    return combine(run_deactivate_race(false, broken), run_deactivate_race(true, broken));
  Fixture f(base(race, broken));
  Steps st;
  RefreshResult r = RefreshResult::kOk;
  switch (race) {
    case Bug::kCountAfterInvalidate: r = count_order(f, st); break;
    case Bug::kSpeculativeValid: speculative_valid(f, st); break;
    case Bug::kNoRefreshMutex: concurrent_refresh(f, st); break;
    case Bug::kConsumeInactive: r = consume_inactive(f, st); break;
    case Bug::kReinitLock: reinit_lock(f, st); break;
    case Bug::kInnerContinue: r = inner_continue(f, st); break;
    case Bug::kEndErrorPfn: r = end_error_pfn(f, st); break;
    case Bug::kRefreshBeforeActive: r = refresh_without_address(f, st); break;
    case Bug::kRunstateBlockingLock: r = runstate_locks(f, st, broken); break;
    case Bug::kDeactivateInRefresh:
    case Bug::kNone: break;
  }
  return outcome_of(f, st, r, race, broken);
}

LivelockOutcome run_livelock(WaitKind wait, Filter filter, std::chrono::nanoseconds bound) {
  Policy p;
  p.wait = wait;
  p.filter = filter;
  p.refresh_bound = bound;
  Fixture f(p);
  LivelockOutcome out;
  if (f.gpc.activate(hva(0), 8) != RefreshResult::kOk) return out;
  f.swap(0);                                     // the cache is invalid: it must re-resolve
  f.vm.invalidate_range_start(hva(6), hva(7));  // unrelated, held open
  const auto t0 = Clock::now();
  const RefreshResult r = f.gpc.refresh(8);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  f.vm.invalidate_range_end(hva(6), hva(7));
  const GpcStats s = f.gpc.stats();
  out.completed = r == RefreshResult::kOk;
  out.detail = fmt::format(
      "{} {} {:.1f}ms resolves={} retries={} yields={} spin_ms={:.1f} sleeps={} wakeups={} "
      "invalid_wakeups={} slice_timeouts={}",
      describe(p), to_string(r), ms, s.hva_to_pfn, s.retries, s.yields, s.spin_ns / 1e6, s.sleeps,
      s.wakeups, s.invalid_wakeups, s.slice_timeouts);
  return out;
}

}  // namespace gpc::pfncache
