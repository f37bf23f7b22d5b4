// The per-VM MMU-notifier state of KVM that the pfn cache depends on
// (kvm_mmu_notifier_invalidate_range_start/_end in virt/kvm/kvm_main.c):
//   mn_active_invalidate_count   raised (under mn_invalidate_lock) before any cache is
//                                touched, dropped last in range_end; waiters woken at 0
//   mmu_invalidate_in_progress   raised after the caches (kvm_mmu_invalidate_begin)
//   mmu_invalidate_seq           bumped in range_end before in_progress drops
//   the in-progress hva range    merged min/max while more than one is active (v3)
//   gpc_list under gpc_lock      the caches an invalidation visits
// Besides the model it keeps, for the contract checker, the ranges whose start has
// returned and whose end has not finished (the window in which the page may be freed).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "common/mmu_notifier_listener.hpp"
#include "pfncache/policy.hpp"
#include "pfncache/wait.hpp"

namespace gpc::pfncache {

class Gpc;

// Points inside range_start/range_end where a test may park the invalidating thread.
enum class NotifierPhase {
  kStartCountRaised,        // mn_active_invalidate_count was raised
  kStartCachesInvalidated,  // the hook=start cache walk is done (or would be, hook=end)
  kStartReturning,          // everything done; range_start is about to return
  kEndSeqBumped,            // seq bumped and in_progress dropped
  kEndCachesInvalidated,    // the hook=end cache walk is done (or would be, hook=start)
  kEndCountDropped,         // count dropped and waiters woken; range_end returns
};

struct NotifierStats {
  uint64_t starts = 0;
  uint64_t ends = 0;
  uint64_t unbalanced_ends = 0;  // range_end without a matching range_start
  uint64_t caches_invalidated = 0;
  uint64_t wake_syscalls = 0;
  uint64_t mn_lock_taken = 0;  // acquisitions of mn_invalidate_lock (start and end only)
};

class NotifierState : public MmuNotifierListener {
 public:
  using TestHook = std::function<void(NotifierPhase, uintptr_t start, uintptr_t end)>;

  explicit NotifierState(Policy policy = {});
  ~NotifierState() override;
  NotifierState(const NotifierState&) = delete;
  NotifierState& operator=(const NotifierState&) = delete;

  const Policy& policy() const { return policy_; }

  void invalidate_range_start(uintptr_t start, uintptr_t end) override;
  void invalidate_range_end(uintptr_t start, uintptr_t end) override;

  uint64_t seq() const { return seq_.load(std::memory_order_seq_cst); }
  int64_t active_count() const { return active_count_.load(std::memory_order_seq_cst); }
  int64_t in_progress() const { return in_progress_.load(std::memory_order_seq_cst); }
  // An invalidation is active and the merged active range covers `hva`. Lockless, as the
  // kernel reads the count and range with READ_ONCE (gpc_invalidate_in_progress_hva in
  // Christopherson's rework of v3 2/5, 15 Oct 2024): polls never take mn_invalidate_lock.
  bool range_pending(uintptr_t hva) const {
    if (active_count_.load(std::memory_order_seq_cst) == 0) return false;
    return range_start_.load(std::memory_order_seq_cst) <= hva &&
           hva < range_end_.load(std::memory_order_seq_cst);
  }
  // What a refresh of `hva` waits for under the policy's filter.
  bool pending_for(uintptr_t hva) const {
    if (active_count() == 0) return false;
    return policy_.filter == Filter::kGlobal || range_pending(hva);
  }

  // Guest memory: the host ranges memslots map. mmu_invalidate_in_progress and
  // mmu_invalidate_seq move only for an invalidation that overlaps one, as
  // kvm_mmu_invalidate_begin/_end run only when __kvm_handle_hva_range finds a memslot;
  // mn_active_invalidate_count covers every range. With none registered, every range
  // counts as guest memory. Register before any thread uses this state.
  void add_memslot(uintptr_t start, uintptr_t end);
  bool hits_memslot(uintptr_t start, uintptr_t end) const;

  // The memslot generation (gfn->hva translation); bumping it makes every check() fail.
  uint64_t memslots_generation() const { return generation_.load(std::memory_order_acquire); }
  void bump_memslots_generation() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  // Contract checker: is some range whose start returned (and end not finished) covering
  // hva? `epoch` changes whenever that set changes.
  bool returned_start_covers(uintptr_t hva) const;
  uint64_t epoch() const { return epoch_.load(std::memory_order_seq_cst); }

  WakeWord& wake_word() { return wake_; }
  // Install before any thread uses this state; called on every phase (tests park here).
  void set_test_hook(TestHook hook) { hook_ = std::move(hook); }
  NotifierStats stats() const;

 private:
  friend class Gpc;
  void add_cache(Gpc* gpc);
  void remove_cache(Gpc* gpc);
  bool listed(const Gpc* gpc) const;
  void raise_count(uintptr_t start, uintptr_t end);
  bool drop_count();  // true when the count reached zero
  std::unique_lock<std::mutex> lock_mn() const;
  void invalidate_caches(uintptr_t start, uintptr_t end, bool from_end_hook);
  void phase(NotifierPhase p, uintptr_t s, uintptr_t e) {
    if (hook_) hook_(p, s, e);
  }

  const Policy policy_;
  TestHook hook_;

  mutable std::mutex mn_invalidate_lock_;  // serializes the count transitions and the range
  mutable std::atomic<uint64_t> mn_lock_taken_{0};
  std::atomic<int64_t> active_count_{0};
  // Empty while no invalidation is active (v3 2/5 resets it to KVM_HVA_ERR_BAD at zero).
  std::atomic<uintptr_t> range_start_{UINTPTR_MAX}, range_end_{0};

  std::mutex mmu_lock_;  // stands in for kvm->mmu_lock around seq / in_progress
  std::atomic<uint64_t> seq_{0};
  std::atomic<int64_t> in_progress_{0};

  std::atomic<uint64_t> generation_{0};
  std::vector<std::pair<uintptr_t, uintptr_t>> memslots_;  // fixed before use

  mutable std::mutex gpc_lock_;
  std::vector<Gpc*> gpc_list_;

  mutable std::mutex inflight_mu_;
  std::vector<std::pair<uintptr_t, uintptr_t>> inflight_;
  std::atomic<uint32_t> inflight_n_{0};
  std::atomic<uint64_t> epoch_{0};

  WakeWord wake_;
  std::atomic<uint64_t> starts_{0}, ends_{0}, unbalanced_{0}, invalidated_{0};
};

}  // namespace gpc::pfncache
