#include "pfncache/gpc.hpp"

#include <immintrin.h>
#include <sched.h>

#include "common/stop.hpp"

namespace gpc::pfncache {

const char* to_string(RefreshResult r) {
  switch (r) {
    case RefreshResult::kOk: return "ok";
    case RefreshResult::kInactive: return "inactive";
    case RefreshResult::kBadLength: return "bad-length";
    case RefreshResult::kFault: return "fault";
    case RefreshResult::kTimedOut: return "timed-out";
    case RefreshResult::kStopped: return "stopped";
    case RefreshResult::kDeadlock: return "deadlock";
  }
  return "?";
}

Gpc::Gpc(NotifierState& vm, Resolver& resolver)
    : vm_(vm),
      resolver_(resolver),
      policy_(vm.policy()),
      check_active_(policy_.bug != Bug::kConsumeInactive),
      lockless_(policy_.check == ReaderCheck::kLockless),
      seq_under_lock_(policy_.wait == WaitKind::kBusy) {}

Gpc::~Gpc() {
  deactivate();
  vm_.remove_cache(this);
  // A broken variant can leave a mapping on an inactive cache; release it anyway.
  if (char* base = map_base_.exchange(nullptr)) release_mapping(base);
}

// ---- readers ---------------------------------------------------------------------------

GpcView Gpc::view() const {
  for (int spins = 0;; ++spins) {
    const uint32_t s = wseq_.load(std::memory_order_acquire);
    if (!(s & 1)) {
      // Acquire loads (plain moves on x86) keep the re-read of the sequence below
      // from moving above them; TSan does not model a standalone fence.
      GpcView v;
      v.valid = valid_.load(std::memory_order_acquire);
      v.active = active_.load(std::memory_order_acquire);
      v.uhva = uhva_.load(std::memory_order_acquire);
      v.khva = khva_.load(std::memory_order_acquire);
      v.memfd_offset = frame_offset_.load(std::memory_order_acquire);
      v.pfn = pfn_.load(std::memory_order_acquire);
      if (wseq_.load(std::memory_order_relaxed) == s) return v;
    }
    if (spins % 64 == 63) sched_yield(); else _mm_pause();
  }
}

void Gpc::synchronize_readers() {
  if (!lockless_) return;  // the write lock already excluded every reader
  readers_.wait_for_readers(Clock::now() + std::chrono::seconds(10), &sync_waits_);
}

// ---- writers -----------------------------------------------------------------------------

Gpc::Mapping Gpc::current() const {
  Mapping m;
  m.base = map_base_.load(std::memory_order_relaxed);
  m.frame.memfd_offset = frame_offset_.load(std::memory_order_relaxed);
  m.frame.pfn = pfn_.load(std::memory_order_relaxed);
  return m;
}

// Stores inside a write section are release (plain moves on x86): a lockless reader that
// sees a new value then also sees the odd sequence number and retries.
void Gpc::install(const Mapping& m, uintptr_t uhva, bool valid) {
  write_begin();
  map_base_.store(m.base, std::memory_order_release);
  khva_.store(m.base ? m.base + offset_in_page(uhva) : nullptr, std::memory_order_release);
  frame_offset_.store(m.base ? m.frame.memfd_offset : kNoFrame, std::memory_order_release);
  pfn_.store(m.base ? m.frame.pfn : 0, std::memory_order_release);
  valid_.store(valid, std::memory_order_seq_cst);
  write_end();
}

void Gpc::release_mapping(char* base) {
  if (resolver_.unmap(base)) AtomicGpcStats::add(stats_.unmaps);
}

void Gpc::lock_refresh_mutex(std::unique_lock<std::mutex>& lk) {
  if (lk.try_lock()) return;
  contended_.fetch_add(1, std::memory_order_relaxed);
  lk.lock();
}

// Whether an invalidation of [start, end) must invalidate this cache. Caller holds lock_
// (read or write). hook=start: pfncache.c's `valid && !is_error_noslot_pfn(pfn) && uhva in
// range`. hook=end (v3 1/5): `needs_invalidation && uhva in range`; v3 as posted also
// requires a non-error pfn, which misses a refresh that starts from one
// (Bug::kEndErrorPfn, docs/pfncache-model.md).
bool Gpc::invalidation_needed(uintptr_t start, uintptr_t end, bool from_end_hook) const {
  const uintptr_t u = uhva_.load(std::memory_order_relaxed);
  if (!(start <= u && u < end)) return false;
  const bool error_pfn = frame_offset_.load(std::memory_order_relaxed) == kNoFrame;
  if (!from_end_hook) return valid_.load(std::memory_order_relaxed) && !error_pfn;
  if (policy_.bug == Bug::kEndErrorPfn && error_pfn) return false;
  return needs_invalidation_.load(std::memory_order_relaxed);
}

bool Gpc::invalidate(uintptr_t start, uintptr_t end, bool from_end_hook) {
  // Not stoppable: readers leave within a use, and returning here without clearing valid
  // would let the caller move the page under a valid cache (Ctrl-C once produced exactly
  // that: stale writes). Only a reader stuck for the whole bound, which only a broken
  // model does, makes it fail; that is counted as a model violation.
  //
  // Look under the read lock first and take the write lock only for a cache that needs
  // it (21dadfcd665e "KVM: pfncache: check the need for invalidation under read lock
  // first", Durrant, Feb 2024, in 6.9): unrelated invalidations no longer stall readers.
  if (!lock_.read_lock_for(kInvalidateLockBound, /*stoppable=*/false)) {
    invalidate_lock_failures_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const bool needed = invalidation_needed(start, end, from_end_hook);
  lock_.read_unlock();
  if (!needed) return false;
  if (!lock_.write_lock(kInvalidateLockBound, /*stoppable=*/false)) {
    invalidate_lock_failures_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // The cache may have changed between the two locks: check again.
  const bool hit = invalidation_needed(start, end, from_end_hook);
  if (hit) {
    write_begin();
    if (from_end_hook) needs_invalidation_.store(false, std::memory_order_seq_cst);
    valid_.store(false, std::memory_order_seq_cst);
    write_end();
  }
  lock_.write_unlock();
  // Lockless readers that saw valid==true may still be inside: the notifier must not
  // return (and let the page go) before they leave.
  if (hit) synchronize_readers();
  return hit;
}

RefreshResult Gpc::activate(uintptr_t uhva, size_t len) {
  // kvm_gfn_to_pfn_cache_init() used to run rwlock_init() on every activation.
  if (policy_.bug == Bug::kReinitLock) lock_.reinit();
  if (!active_.load(std::memory_order_acquire)) {
    if (lock_.write_lock()) {
      // Fields reset while the cache is unreachable; a leftover mapping is a bug's leak.
      Mapping left = current();
      install(Mapping{}, uhva, false);
      lock_.write_unlock();
      if (left.base) release_mapping(left.base);
    }
    // Listed before active: a refresh must not build a mapping that no invalidation
    // can reach.
    vm_.add_cache(this);
    if (!lock_.write_lock()) return RefreshResult::kStopped;
    active_.store(true, std::memory_order_release);
    lock_.write_unlock();
  }
  return refresh(uhva, len);
}

void Gpc::deactivate() {
  std::unique_lock<std::mutex> serial(refresh_mu_, std::defer_lock);
  // Since 6.9 deactivation holds refresh_lock, so it cannot land in the unlocked window of
  // hva_to_pfn_retry(). The broken variant does not.
  if (policy_.bug != Bug::kDeactivateInRefresh && policy_.bug != Bug::kNoRefreshMutex)
    lock_refresh_mutex(serial);
  if (!active_.load(std::memory_order_acquire)) return;
  if (!lock_.write_lock()) return;
  const Mapping old = current();
  write_begin();
  active_.store(false, std::memory_order_release);
  needs_invalidation_.store(false, std::memory_order_seq_cst);  // v3 1/5
  write_end();
  install(Mapping{}, uhva_.load(std::memory_order_relaxed), false);
  lock_.write_unlock();
  vm_.remove_cache(this);
  if (old.base) {
    synchronize_readers();
    release_mapping(old.base);
  }
}

RefreshResult Gpc::refresh(size_t len) { return refresh_locked(std::nullopt, len); }
RefreshResult Gpc::refresh(uintptr_t new_uhva, size_t len) { return refresh_locked(new_uhva, len); }

// kvm_gpc_refresh with Christopherson's fix for syzbot cde12433b6c56f55d9ed ("Re: [PATCH]
// KVM: pfncache: Fix uhva validity check in kvm_gpc_is_valid_len()", 9 Mar 2026): active
// is tested first, under refresh_lock, which guards it. Before, only the length was
// tested, and a cache without an address (KVM_HVA_ERR_BAD is page-aligned) reached
// __kvm_gpc_refresh's WARN_ON_ONCE(gpa and uhva both invalid) before its own active test.
std::optional<RefreshResult> Gpc::refresh_prechecks(uintptr_t target, size_t len) {
  if (policy_.bug != Bug::kRefreshBeforeActive && check_active_ &&
      !active_.load(std::memory_order_acquire))
    return RefreshResult::kInactive;
  if (offset_in_page(target) + len > kPageSize) return RefreshResult::kBadLength;
  if (target == kBadHva) {
    refresh_warnings_.fetch_add(1, std::memory_order_relaxed);  // the WARN, then -EINVAL
    return RefreshResult::kInactive;
  }
  return std::nullopt;
}

RefreshResult Gpc::refresh_locked(std::optional<uintptr_t> new_uhva, size_t len) {
  AtomicGpcStats::add(stats_.refreshes);
  auto done = [&](RefreshResult r) {
    AtomicGpcStats::add(r == RefreshResult::kOk ? stats_.refresh_ok : stats_.refresh_failed);
    if (r == RefreshResult::kTimedOut) AtomicGpcStats::add(stats_.timeouts);
    if (r == RefreshResult::kDeadlock) AtomicGpcStats::add(stats_.deadlocks);
    return r;
  };
  // Concurrent refreshes may see different addresses and generations: serialize them.
  std::unique_lock<std::mutex> serial(refresh_mu_, std::defer_lock);
  if (policy_.bug != Bug::kNoRefreshMutex) lock_refresh_mutex(serial);

  const uintptr_t target = new_uhva.value_or(uhva_.load(std::memory_order_relaxed));
  if (const auto r = refresh_prechecks(target, len)) return done(*r);
  if (!lock_.write_lock(policy_.refresh_bound))
    return done(stop_requested() ? RefreshResult::kStopped : RefreshResult::kTimedOut);
  // __kvm_gpc_refresh: deactivation may have won the race for refresh_lock's absence
  // (broken variants) or run before it; the kernel tests active under gpc->lock too.
  if (check_active_ && !active_.load(std::memory_order_relaxed)) {
    lock_.write_unlock();
    return done(RefreshResult::kInactive);
  }
  const Mapping old = current();
  // __kvm_gpc_refresh: a new gpa or memslot generation recomputes uhva, but only a
  // change of its page (hva_change) or an invalid cache re-resolves the pfn; a new
  // generation that leaves uhva where it was keeps the mapping.
  const uint64_t gen = vm_.memslots_generation();
  const bool hva_change = page_of(target) != page_of(uhva_.load(std::memory_order_relaxed));
  if (target != uhva_.load(std::memory_order_relaxed) ||
      generation_.load(std::memory_order_relaxed) != gen) {
    write_begin();
    uhva_.store(target, std::memory_order_release);
    generation_.store(gen, std::memory_order_release);
    write_end();
  }

  RefreshResult r = RefreshResult::kOk;
  Mapping failed_attempt;
  bool lock_lost = false;
  if (!valid_.load(std::memory_order_relaxed) || hva_change) {
    r = hva_to_pfn_retry(old, &failed_attempt, &lock_lost);
  } else {
    // Same page, still valid: keep the mapping, only the offset in the page may differ.
    write_begin();
    khva_.store(old.base ? old.base + offset_in_page(target) : nullptr, std::memory_order_release);
    write_end();
  }

  bool unmap_old = false;
  if (!lock_lost) {
    if (r != RefreshResult::kOk) {
      install(Mapping{}, target, false);
      needs_invalidation_.store(false, std::memory_order_seq_cst);  // v3 1/5's error path
    }
    // Decided before the lock is dropped, as the kernel does ("detect a pfn change").
    unmap_old = old.base && map_base_.load(std::memory_order_relaxed) != old.base;
    lock_.write_unlock();
  }
  if (unmap_old || failed_attempt.base) synchronize_readers();
  if (failed_attempt.base && failed_attempt.base != old.base) release_mapping(failed_attempt.base);
  if (unmap_old) release_mapping(old.base);
  return done(r);
}

bool Gpc::retry_needed(uint64_t snap, uintptr_t uhva) const {
  if (policy_.hook == Hook::kEnd) {
    // v3 4/5: only an invalidation of this uhva (which clears the flag in range_end)
    // forces a retry. busy does not wait (v3 has no busy variant), so it also retries
    // while one pends: installing then would break the notifier contract outright.
    return !needs_invalidation_.load(std::memory_order_seq_cst) ||
           (policy_.wait == WaitKind::kBusy && vm_.pending_for(uhva));
  }
  if (policy_.filter == Filter::kGlobal)  // mmu_notifier_retry_cache()
    return vm_.active_count() != 0 || vm_.seq() != snap;
  return vm_.range_pending(uhva) || vm_.seq() != snap;  // as mmu_invalidate_retry_gfn()
}

WaitResult Gpc::wait_for_invalidations(uintptr_t uhva, Clock::time_point deadline) {
  auto pending = [this, uhva] { return vm_.pending_for(uhva); };
  WaitPhases plan;
  switch (policy_.wait) {
    case WaitKind::kBusy:
      return WaitResult::kClear;  // upstream resolves anyway and lets the retry check decide
    case WaitKind::kSpin:
      plan.spin = deadline - Clock::now();
      return wait_phased(pending, plan, vm_.wake_word(), deadline, policy_.block_slice, stats_);
    case WaitKind::kBlock:
      plan.block = true;
      return wait_phased(pending, plan, vm_.wake_word(), deadline, policy_.block_slice, stats_);
    case WaitKind::kHaltPoll: {
      if (!pending()) return WaitResult::kClear;  // like a halt that finds work: no wait, no adapt
      const uint32_t window = window_.ns();
      plan.spin = std::chrono::nanoseconds(window);
      plan.block = true;
      plan.stop_when_preempted = true;  // kvm_vcpu_can_poll: single_task_running()
      const auto t0 = Clock::now();
      const WaitResult r =
          wait_phased(pending, plan, vm_.wake_word(), deadline, policy_.block_slice, stats_);
      const auto waited = static_cast<uint64_t>((Clock::now() - t0).count());
      if (window > 0) {
        AtomicGpcStats::add(stats_.polls_attempted);
        AtomicGpcStats::add(stats_.poll_ns, std::min<uint64_t>(waited, window));
        if (r == WaitResult::kClear && waited <= window)
          AtomicGpcStats::add(stats_.polls_successful);
        else
          AtomicGpcStats::add(stats_.polls_invalid);
      }
      window_.update(waited, r == WaitResult::kClear, policy_.halt_poll);
      return r;
    }
  }
  return WaitResult::kClear;
}

void Gpc::mark_invalid_before_unlock() {
  write_begin();
  if (policy_.bug == Bug::kSpeculativeValid) {
    // The pre-2022 shape: valid before the new page is even mapped.
    khva_.store(nullptr, std::memory_order_release);
    valid_.store(true, std::memory_order_seq_cst);
  } else {
    // Invalid before the lock is dropped: uhva may already be new, so a concurrent
    // check() could not tell the old mapping is wrong.
    valid_.store(false, std::memory_order_seq_cst);
  }
  write_end();
}

// The previous turn's attempt was never published, so no reader can hold it.
void Gpc::drop_attempt(const Mapping& old, Mapping* attempt) {
  AtomicGpcStats::add(stats_.retries);
  if (attempt->base && attempt->base != old.base) release_mapping(attempt->base);
  *attempt = Mapping{};
  // cond_resched() follows here in hva_to_pfn_retry: under preempt=none/voluntary it
  // reschedules only when a reschedule is due, and under full/lazy it is a no-op. A
  // userspace thread is preempted when a reschedule is due (slice end, wakeup
  // preemption), so nothing is done: an explicit sched_yield() would give the CPU away on
  // every turn, which the kernel never does (issue 12: busy was ~14x slower for it).
}

// v3 2/5 as posted: the lock is re-taken inside the wait loop and `continue` restarts
// that inner loop, so the second turn takes the held lock again. Returns true with *r
// set when the refresh ends here.
bool Gpc::inner_continue_wait(uintptr_t uhva, bool* lock_lost, RefreshResult* r) {
  bool held = false;
  while (vm_.pending_for(uhva)) {
    // cond_resched(): nothing to do in userspace (see drop_attempt).
    if (!lock_.write_lock(policy_.refresh_bound)) {
      if (lock_.write_held_by_me()) {
        *r = RefreshResult::kDeadlock;
        return true;
      }
      *lock_lost = true;
      *r = stop_requested() ? RefreshResult::kStopped : RefreshResult::kTimedOut;
      return true;
    }
    held = true;
    continue;
  }
  if (!held) return false;
  lock_.write_lock(policy_.refresh_bound);  // the relock after hva_to_pfn: deadlock
  *r = RefreshResult::kDeadlock;
  return true;
}

// hva_to_pfn() and the kmap: reuse the old mapping if the frame is unchanged.
RefreshResult Gpc::resolve_and_map(uintptr_t uhva, const Mapping& old, Mapping* attempt) {
  AtomicGpcStats::add(stats_.hva_to_pfn);
  const std::optional<Frame> frame = resolver_.hva_to_pfn(uhva);
  if (!frame) return RefreshResult::kFault;
  if (old.base && frame->memfd_offset == old.frame.memfd_offset) {
    *attempt = Mapping{old.base, *frame};  // same page: reuse the existing mapping
    return RefreshResult::kOk;
  }
  auto* base = static_cast<char*>(resolver_.map(*frame));
  if (!base) return RefreshResult::kFault;
  AtomicGpcStats::add(stats_.maps);
  *attempt = Mapping{base, *frame};
  return RefreshResult::kOk;
}

RefreshResult Gpc::wait_result(WaitResult w) {
  if (w == WaitResult::kStopped) return RefreshResult::kStopped;
  if (w == WaitResult::kTimedOut) return RefreshResult::kTimedOut;
  return RefreshResult::kOk;
}

// Where each design snapshots mmu_invalidate_seq (issue 12 item 2): upstream's busy loop
// under gpc->lock at the top of every turn (pfncache.c hva_to_pfn_retry); the waiting
// strategies just before hva_to_pfn, after their wait, as Christopherson's rework of the
// v3 review does (15 Oct 2024, patch 1/5 "Snapshot mmu_invalidate_seq immediately before
// hva_to_pfn()"), so an invalidation that ends during the wait costs no retry.
RefreshResult Gpc::hva_to_pfn_retry(const Mapping& old, Mapping* to_release, bool* lock_lost) {
  const uintptr_t uhva = uhva_.load(std::memory_order_relaxed);
  mark_invalid_before_unlock();
  const Clock::time_point deadline = Clock::now() + policy_.refresh_bound;
  auto relock_and = [&](RefreshResult r) {
    if (!lock_.write_lock(policy_.refresh_bound)) *lock_lost = true;
    return r;
  };
  Mapping attempt;
  for (int turn = 0;; ++turn) {
    uint64_t snap = seq_under_lock_ ? vm_.seq() : 0;
    if (policy_.hook == Hook::kEnd) needs_invalidation_.store(true, std::memory_order_seq_cst);
    lock_.write_unlock();
    test_phase(GpcPhase::kLockDropped);
    if (turn > 0) drop_attempt(old, &attempt);
    if (stop_requested()) return relock_and(RefreshResult::kStopped);
    if (Clock::now() >= deadline) return relock_and(RefreshResult::kTimedOut);

    if (policy_.bug == Bug::kInnerContinue) {
      RefreshResult r = RefreshResult::kOk;
      if (inner_continue_wait(uhva, lock_lost, &r)) return r;
    } else if (policy_.hook == Hook::kStart) {
      if (const RefreshResult r = wait_result(wait_for_invalidations(uhva, deadline)); r != RefreshResult::kOk)
        return relock_and(r);
    }
    if (!seq_under_lock_) snap = vm_.seq();
    if (const RefreshResult r = resolve_and_map(uhva, old, &attempt); r != RefreshResult::kOk)
      return relock_and(r);
    test_phase(GpcPhase::kResolved);
    // v3 4/5: resolve and map first, then gpc_wait_for_invalidations(), then relock; an
    // invalidation that ended meanwhile cleared needs_invalidation and forces a retry.
    if (policy_.hook == Hook::kEnd && policy_.wait != WaitKind::kBusy) {
      if (const RefreshResult r = wait_result(wait_for_invalidations(uhva, deadline)); r != RefreshResult::kOk) {
        *to_release = attempt;
        return relock_and(r);
      }
    }

    if (!lock_.write_lock(policy_.refresh_bound)) {
      *lock_lost = true;
      *to_release = attempt;
      return stop_requested() ? RefreshResult::kStopped : RefreshResult::kTimedOut;
    }
    // Deactivation may have run while the lock was dropped.
    if (policy_.bug != Bug::kDeactivateInRefresh && check_active_ &&
        !active_.load(std::memory_order_relaxed)) {
      *to_release = attempt;
      return RefreshResult::kInactive;
    }
    if (!retry_needed(snap, uhva)) break;
  }
  install(attempt, uhva, true);
  return RefreshResult::kOk;
}

GpcAudit Gpc::audit() const {
  GpcAudit a;
  const GpcView v = view();
  a.valid_while_inactive = v.valid && !v.active;
  a.mapped_while_inactive = !v.active && map_base_.load(std::memory_order_relaxed) != nullptr;
  a.valid_but_unlisted = v.valid && !vm_.listed(this);
  a.lock_self_deadlocks = lock_.self_deadlocks();
  a.invalidate_lock_failures = invalidate_lock_failures_.load(std::memory_order_relaxed);
  a.lock_unbalanced_unlocks = lock_.unbalanced_unlocks();
  a.refresh_warnings = refresh_warnings_.load(std::memory_order_relaxed);
  // A valid cache must map something the resolver still has mapped (the same-pfn path of
  // the deactivate race reuses a khva that deactivate already released).
  if (v.valid && v.khva) {
    char* base = map_base_.load(std::memory_order_relaxed);
    a.valid_khva_unmapped = base && resolver_.offset_of_mapping(base) == kNoFrame;
  }
  return a;
}

}  // namespace gpc::pfncache
