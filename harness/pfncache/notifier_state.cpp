#include "pfncache/notifier_state.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "pfncache/gpc.hpp"

namespace gpc::pfncache {

NotifierState::NotifierState(Policy policy) : policy_(policy) {}

NotifierState::~NotifierState() = default;

std::unique_lock<std::mutex> NotifierState::lock_mn() const {
  mn_lock_taken_.fetch_add(1, std::memory_order_relaxed);
  return std::unique_lock<std::mutex>(mn_invalidate_lock_);
}

// The range is stored before the count (both seq_cst), so a lockless reader that sees
// this count also sees a range covering this invalidation. The range only grows while
// the count is above zero, as in v3 2/5 ("the in-progress range never shrinks").
void NotifierState::raise_count(uintptr_t start, uintptr_t end) {
  auto g = lock_mn();
  if (active_count_.load(std::memory_order_relaxed) == 0) {
    range_start_.store(start, std::memory_order_seq_cst);
    range_end_.store(end, std::memory_order_seq_cst);
  } else {
    range_start_.store(std::min(range_start_.load(std::memory_order_relaxed), start),
                       std::memory_order_seq_cst);
    range_end_.store(std::max(range_end_.load(std::memory_order_relaxed), end),
                     std::memory_order_seq_cst);
  }
  active_count_.fetch_add(1, std::memory_order_seq_cst);
}

bool NotifierState::drop_count() {
  auto g = lock_mn();
  const bool last = active_count_.fetch_sub(1, std::memory_order_seq_cst) == 1;
  if (last) {  // v3 2/5: the range is reset to KVM_HVA_ERR_BAD when the count reaches 0
    range_start_.store(UINTPTR_MAX, std::memory_order_seq_cst);
    range_end_.store(0, std::memory_order_seq_cst);
  }
  return last;
}

void NotifierState::invalidate_caches(uintptr_t start, uintptr_t end, bool from_end_hook) {
  std::lock_guard<std::mutex> g(gpc_lock_);
  for (Gpc* gpc : gpc_list_)
    if (gpc->invalidate(start, end, from_end_hook))
      invalidated_.fetch_add(1, std::memory_order_relaxed);
}

void NotifierState::invalidate_range_start(uintptr_t start, uintptr_t end) {
  if (end <= start)
    throw UsageError(fmt::format("invalidate_range_start: empty range [{:#x}, {:#x})", start, end));
  starts_.fetch_add(1, std::memory_order_relaxed);
  const bool count_first = policy_.bug != Bug::kCountAfterInvalidate;
  // The count must be visible before any cache is looked at: a refresh that re-validates
  // a cache after the walk below must see it and retry (mmu_notifier_retry_cache).
  if (count_first) {
    raise_count(start, end);
    phase(NotifierPhase::kStartCountRaised, start, end);
  }
  if (policy_.hook == Hook::kStart) invalidate_caches(start, end, false);
  phase(NotifierPhase::kStartCachesInvalidated, start, end);
  if (!count_first) {
    raise_count(start, end);
    phase(NotifierPhase::kStartCountRaised, start, end);
  }
  if (hits_memslot(start, end)) {
    std::lock_guard<std::mutex> g(mmu_lock_);  // kvm_mmu_invalidate_begin
    in_progress_.fetch_add(1, std::memory_order_seq_cst);
  }
  {
    std::lock_guard<std::mutex> g(inflight_mu_);
    inflight_.emplace_back(start, end);
    inflight_n_.store(static_cast<uint32_t>(inflight_.size()), std::memory_order_seq_cst);
    epoch_.fetch_add(1, std::memory_order_seq_cst);
  }
  phase(NotifierPhase::kStartReturning, start, end);
}

void NotifierState::invalidate_range_end(uintptr_t start, uintptr_t end) {
  if (active_count_.load(std::memory_order_seq_cst) <= 0) {
    unbalanced_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (hits_memslot(start, end)) {
    std::lock_guard<std::mutex> g(mmu_lock_);  // kvm_mmu_invalidate_end
    // seq first: a refresh that sees the old (raised) count or the new seq retries.
    seq_.fetch_add(1, std::memory_order_seq_cst);
    in_progress_.fetch_sub(1, std::memory_order_seq_cst);
  }
  ends_.fetch_add(1, std::memory_order_relaxed);
  phase(NotifierPhase::kEndSeqBumped, start, end);
  if (policy_.hook == Hook::kEnd) invalidate_caches(start, end, true);
  phase(NotifierPhase::kEndCachesInvalidated, start, end);
  {
    std::lock_guard<std::mutex> g(inflight_mu_);
    auto it = std::find(inflight_.begin(), inflight_.end(), std::make_pair(start, end));
    if (it != inflight_.end()) inflight_.erase(it);
    inflight_n_.store(static_cast<uint32_t>(inflight_.size()), std::memory_order_seq_cst);
    epoch_.fetch_add(1, std::memory_order_seq_cst);
  }
  if (drop_count()) wake_.wake_all();
  phase(NotifierPhase::kEndCountDropped, start, end);
}

bool NotifierState::returned_start_covers(uintptr_t hva) const {
  if (inflight_n_.load(std::memory_order_seq_cst) == 0) return false;
  std::lock_guard<std::mutex> g(inflight_mu_);
  for (const auto& [s, e] : inflight_)
    if (s <= hva && hva < e) return true;
  return false;
}

void NotifierState::add_memslot(uintptr_t start, uintptr_t end) {
  if (end <= start)
    throw UsageError(fmt::format("add_memslot: empty range [{:#x}, {:#x})", start, end));
  memslots_.emplace_back(start, end);
}

bool NotifierState::hits_memslot(uintptr_t start, uintptr_t end) const {
  if (memslots_.empty()) return true;
  for (const auto& [s, e] : memslots_)
    if (start < e && s < end) return true;
  return false;
}

void NotifierState::add_cache(Gpc* gpc) {
  std::lock_guard<std::mutex> g(gpc_lock_);
  if (std::find(gpc_list_.begin(), gpc_list_.end(), gpc) == gpc_list_.end())
    gpc_list_.push_back(gpc);
}

void NotifierState::remove_cache(Gpc* gpc) {
  std::lock_guard<std::mutex> g(gpc_lock_);
  gpc_list_.erase(std::remove(gpc_list_.begin(), gpc_list_.end(), gpc), gpc_list_.end());
}

bool NotifierState::listed(const Gpc* gpc) const {
  std::lock_guard<std::mutex> g(gpc_lock_);
  return std::find(gpc_list_.begin(), gpc_list_.end(), gpc) != gpc_list_.end();
}

NotifierStats NotifierState::stats() const {
  NotifierStats s;
  s.starts = starts_.load(std::memory_order_relaxed);
  s.ends = ends_.load(std::memory_order_relaxed);
  s.unbalanced_ends = unbalanced_.load(std::memory_order_relaxed);
  s.caches_invalidated = invalidated_.load(std::memory_order_relaxed);
  s.wake_syscalls = wake_.wake_syscalls();
  s.mn_lock_taken = mn_lock_taken_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace gpc::pfncache
