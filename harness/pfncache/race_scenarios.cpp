#include "pfncache/race_scenarios.hpp"

#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "pfncache/race_fixture.hpp"

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

// 6. Refresh parked after its lookup; deactivate runs.
void deactivate_in_refresh(Fixture& f, Steps& st) {
  st.require(f.gpc.activate(hva(0), 8) == RefreshResult::kOk);
  f.swap(0);
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

}  // namespace

std::vector<Bug> historical_races() {
  return {Bug::kCountAfterInvalidate, Bug::kSpeculativeValid, Bug::kNoRefreshMutex,
          Bug::kConsumeInactive,      Bug::kReinitLock,       Bug::kDeactivateInRefresh,
          Bug::kInnerContinue,        Bug::kEndErrorPfn};
}

RaceOutcome run_race(Bug race, bool broken) {
  if (race == Bug::kNone) throw UsageError("run_race: name a race (a Bug other than none)");
  Fixture f(base(race, broken));
  Steps st;
  RaceOutcome out;
  out.race = race;
  out.broken = broken;
  RefreshResult r = RefreshResult::kOk;
  switch (race) {
    case Bug::kCountAfterInvalidate: r = count_order(f, st); break;
    case Bug::kSpeculativeValid: speculative_valid(f, st); break;
    case Bug::kNoRefreshMutex: concurrent_refresh(f, st); break;
    case Bug::kConsumeInactive: r = consume_inactive(f, st); break;
    case Bug::kReinitLock: reinit_lock(f, st); break;
    case Bug::kDeactivateInRefresh: deactivate_in_refresh(f, st); break;
    case Bug::kInnerContinue: r = inner_continue(f, st); break;
    case Bug::kEndErrorPfn: r = end_error_pfn(f, st); break;
    case Bug::kNone: break;
  }
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
      "invalid_wakeups={}",
      describe(p), to_string(r), ms, s.hva_to_pfn, s.retries, s.yields, s.spin_ns / 1e6, s.sleeps,
      s.wakeups, s.invalid_wakeups);
  return out;
}

}  // namespace gpc::pfncache
