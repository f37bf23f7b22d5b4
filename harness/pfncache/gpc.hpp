// One pfn cache (struct gfn_to_pfn_cache, virt/kvm/pfncache.c): a "kernel" mapping khva of
// the page that backs uhva, kept coherent with MMU-notifier invalidations.
//
//   { auto g = gpc.read_lock(); if (gpc.check(len)) { ...use gpc.khva()... } }
//   else gpc.refresh(len);
//
// Fields are atomics so that the deliberately broken variants race only logically (the
// contract checker sees them) and never as C++ data races (TSan stays quiet); under the
// lock they are relaxed loads, i.e. plain moves on x86.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "pfncache/notifier_state.hpp"
#include "pfncache/reader_slots.hpp"
#include "pfncache/resolver.hpp"
#include "pfncache/spin_rwlock.hpp"
#include "pfncache/stats.hpp"
#include "pfncache/wait.hpp"

namespace gpc::pfncache {

enum class RefreshResult {
  kOk,
  kInactive,   // -EINVAL: the cache is not active
  kBadLength,  // -EINVAL: offset + len crosses the page
  kFault,      // -EFAULT: nothing backs uhva, or the mapping failed
  kTimedOut,   // Policy::refresh_bound expired (the livelock, measured)
  kStopped,    // stop_requested()
  kDeadlock,   // gpc->lock re-acquired by its holder (Bug::kInnerContinue)
};
const char* to_string(RefreshResult);

// Points inside hva_to_pfn_retry where a test may act (or park the refreshing thread).
enum class GpcPhase {
  kLockDropped,  // gpc->lock was just dropped at the top of a turn (seq snapshot taken if upstream)
  kResolved,     // hva_to_pfn and the mapping are done, the lock is not yet retaken
};

// A consistent view of the fields a user needs, read under a seqcount in lockless mode.
struct GpcView {
  bool valid = false;
  bool active = false;
  uintptr_t uhva = 0;
  char* khva = nullptr;
  uint64_t memfd_offset = kNoFrame;
  uint64_t pfn = 0;
};

// Model invariants that no access exposes directly.
struct GpcAudit {
  bool valid_while_inactive = false;    // a valid cache nobody will invalidate
  bool mapped_while_inactive = false;   // a mapping left behind by a deactivate race
  bool valid_but_unlisted = false;      // valid and not on the VM's list
  uint64_t lock_self_deadlocks = 0;
  uint64_t lock_unbalanced_unlocks = 0;
  uint64_t invalidate_lock_failures = 0;  // an invalidation could not take gpc->lock: skipped
  bool valid_khva_unmapped = false;       // valid, but its mapping was already released
  uint64_t refresh_warnings = 0;          // __kvm_gpc_refresh's WARN: refresh of a cache with no address
  uint64_t violations() const {
    return valid_while_inactive + mapped_while_inactive + valid_but_unlisted +
           lock_self_deadlocks + lock_unbalanced_unlocks + invalidate_lock_failures +
           valid_khva_unmapped + refresh_warnings;
  }
};

class Gpc {
 public:
  Gpc(NotifierState& vm, Resolver& resolver);
  ~Gpc();
  Gpc(const Gpc&) = delete;
  Gpc& operator=(const Gpc&) = delete;

  // kvm_gpc_activate: list the cache, mark it active, refresh it for uhva.
  RefreshResult activate(uintptr_t uhva, size_t len);
  // kvm_gpc_deactivate: inactive, unlisted, unmapped.
  void deactivate();

  class ReadGuard {
   public:
    ReadGuard(ReadGuard&& o) noexcept : gpc_(o.gpc_), slot_(o.slot_) { o.gpc_ = nullptr; }
    ReadGuard& operator=(ReadGuard&&) = delete;
    ~ReadGuard() { unlock(); }
    // On the thread that took the guard (a lockless section is that thread's slot).
    void unlock() {
      if (!gpc_) return;
      if (gpc_->lockless_)
        gpc_->readers_.leave(slot_);
      else
        gpc_->lock_.read_unlock();
      gpc_ = nullptr;
    }
    explicit operator bool() const { return gpc_ != nullptr; }

   private:
    friend class Gpc;
    ReadGuard(Gpc* g, uint32_t slot) : gpc_(g), slot_(slot) {}
    Gpc* gpc_;
    uint32_t slot_;
  };
  // rwlock: read_lock(&gpc->lock). lockless: an SRCU-style read section (ReaderSlots). An
  // empty guard means stop_requested() ended the wait for the lock.
  ReadGuard read_lock() {
    if (lockless_) return ReadGuard(this, readers_.enter());
    return ReadGuard(lock_.read_lock() ? this : nullptr, 0);
  }
  // read_trylock(&gpc->lock): empty at once when a writer holds or waits for the lock
  // (a lockless section never waits, so it always succeeds).
  ReadGuard read_trylock() {
    if (lockless_) return ReadGuard(this, readers_.enter());
    return ReadGuard(lock_.read_trylock() ? this : nullptr, 0);
  }

  // kvm_gpc_check. The caller holds read_lock(). The only policy input is one const
  // member fixed at construction (false only for Bug::kConsumeInactive).
  bool check(size_t len) const {
    if (check_active_ && !active_.load(std::memory_order_relaxed)) return false;
    const uintptr_t uhva = uhva_.load(std::memory_order_relaxed);
    if (uhva == kBadHva) return false;  // kvm_is_error_hva(gpc->uhva)
    if (offset_in_page(uhva) + len > kPageSize) return false;
    if (generation_.load(std::memory_order_relaxed) != vm_.memslots_generation()) return false;
    // seq_cst: in lockless mode this load pairs with the invalidator's store of false
    // and its scan of the reader slots (x86: still a plain load).
    return valid_.load(std::memory_order_seq_cst);
  }
  char* khva() const { return khva_.load(std::memory_order_acquire); }
  uintptr_t uhva() const { return uhva_.load(std::memory_order_relaxed); }
  GpcView view() const;

  // kvm_gpc_refresh: re-resolve and re-map if invalid; the same uhva.
  RefreshResult refresh(size_t len);
  // A refresh that also moves the cache to another address (a gpa change).
  RefreshResult refresh(uintptr_t new_uhva, size_t len);

  // Install before any thread uses this cache; runs on the refreshing thread.
  using TestHook = std::function<void(GpcPhase)>;
  void set_test_hook(TestHook hook) { hook_ = std::move(hook); }

  GpcStats stats() const { return stats_.snapshot(); }
  uint32_t halt_poll_ns() const { return window_.ns(); }
  GpcAudit audit() const;
  const SpinRwLock& lock() const { return lock_; }
  // Times a refresh/deactivate found refresh_lock taken and had to wait for it.
  uint64_t refresh_lock_contended() const { return contended_.load(std::memory_order_relaxed); }
  // Times a writer had to wait for lockless readers to leave (synchronize_readers).
  uint64_t reader_syncs_waited() const { return sync_waits_.load(std::memory_order_relaxed); }

 private:
  friend class NotifierState;
  struct Mapping {
    char* base = nullptr;
    Frame frame;
  };
  // Called by the notifier walk with the cache listed. True if it invalidated the cache.
  bool invalidate(uintptr_t start, uintptr_t end, bool from_end_hook);
  bool invalidation_needed(uintptr_t start, uintptr_t end, bool from_end_hook) const;
  RefreshResult refresh_locked(std::optional<uintptr_t> new_uhva, size_t len);
  // kvm_gpc_refresh's checks before gpc->lock; nullopt when the refresh may go on.
  std::optional<RefreshResult> refresh_prechecks(uintptr_t target, size_t len);
  // Runs with lock_ held for write; returns with it held unless *lock_lost is set.
  RefreshResult hva_to_pfn_retry(const Mapping& old, Mapping* to_release, bool* lock_lost);
  void mark_invalid_before_unlock();
  void drop_attempt(const Mapping& old, Mapping* attempt);
  bool inner_continue_wait(uintptr_t uhva, bool* lock_lost, RefreshResult* r);
  RefreshResult resolve_and_map(uintptr_t uhva, const Mapping& old, Mapping* attempt);
  static RefreshResult wait_result(WaitResult w);  // kOk when the wait ended clear
  void test_phase(GpcPhase p) {
    if (hook_) hook_(p);
  }
  WaitResult wait_for_invalidations(uintptr_t uhva, Clock::time_point deadline);
  bool retry_needed(uint64_t snap, uintptr_t uhva) const;
  void install(const Mapping& m, uintptr_t uhva, bool valid);
  Mapping current() const;
  void release_mapping(char* base);
  void synchronize_readers();
  void lock_refresh_mutex(std::unique_lock<std::mutex>& lk);
  void write_begin() { wseq_.fetch_add(1, std::memory_order_acq_rel); }
  void write_end() { wseq_.fetch_add(1, std::memory_order_release); }

  NotifierState& vm_;
  Resolver& resolver_;
  const Policy policy_;
  const bool check_active_;  // false only for Bug::kConsumeInactive
  const bool lockless_;
  const bool seq_under_lock_;  // upstream busy: snapshot at the top of each turn, under gpc->lock
  TestHook hook_;

  SpinRwLock lock_;        // gpc->lock
  std::mutex refresh_mu_;  // gpc->refresh_lock
  std::atomic<bool> active_{false};
  std::atomic<bool> valid_{false};
  std::atomic<bool> needs_invalidation_{false};  // hook=end (v3)
  std::atomic<uintptr_t> uhva_{kBadHva};
  std::atomic<uint64_t> generation_{0};
  std::atomic<char*> khva_{nullptr};
  std::atomic<char*> map_base_{nullptr};
  std::atomic<uint64_t> frame_offset_{kNoFrame};
  std::atomic<uint64_t> pfn_{0};
  std::atomic<uint32_t> wseq_{0};     // seqcount over the fields above (lockless readers)
  std::atomic<uint64_t> contended_{0};
  std::atomic<uint64_t> invalidate_lock_failures_{0};
  std::atomic<uint64_t> refresh_warnings_{0};
  // How long an invalidation waits for readers to leave before it reports a broken model.
  static constexpr std::chrono::seconds kInvalidateLockBound{5};
  std::atomic<uint64_t> sync_waits_{0};

  ReaderSlots readers_;  // lockless read sections in flight
  HaltPollWindow window_;
  AtomicGpcStats stats_;
};

}  // namespace gpc::pfncache
