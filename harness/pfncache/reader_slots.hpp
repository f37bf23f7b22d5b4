// Lockless read sections (check=lockless): who is inside one Gpc's read section, cheaply.
//
// The shape of SRCU / liburcu: every thread owns one cache-line slot per Gpc and enters and
// leaves with plain stores to it, so readers never share a written line. The writer pays
// instead: before scanning the slots it runs membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
// a full barrier on every CPU running this process, which orders each reader's slot store
// before that reader's later loads (x86 may otherwise let a load pass an earlier store).
// Either the writer sees the reader's slot, or the reader sees valid == false.
//
// Without membarrier (old kernel, seccomp) and under ThreadSanitizer, which cannot see
// the barrier the kernel runs on other CPUs and would report the asymmetric pairing as a
// race, slot stores and loads are seq_cst instead: the same Dekker argument through the
// single total order, at the price of a locked store on the reader side.
//
// A thread keeps one slot index for all Gpcs while it lives; threads beyond kSlots share a
// counter updated with atomic read-modify-writes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gpc::pfncache {

class ReaderSlots {
 public:
  static constexpr uint32_t kSlots = 32;
  static constexpr uint32_t kShared = kSlots;  // the index of threads without a slot

  ReaderSlots();

  // Returns the index leave() needs. A section must be left by the thread that entered it.
  uint32_t enter() {
    const uint32_t i = thread_slot();
    if (i == kShared) [[unlikely]] {
      shared_.fetch_add(1, std::memory_order_seq_cst);
      return i;
    }
    std::atomic<uint64_t>& w = slots_[i].word;
    const uint64_t next = w.load(std::memory_order_relaxed) + 1;  // depth + 1
    if (asymmetric_) {
      w.store(next, std::memory_order_relaxed);
      // The compiler must not sink the store below the section's loads; the CPU is
      // handled by the writer's membarrier.
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
      w.store(next, std::memory_order_seq_cst);
    }
    return i;
  }

  void leave(uint32_t i) {
    if (i == kShared) [[unlikely]] {
      shared_.fetch_sub(1, std::memory_order_release);
      return;
    }
    std::atomic<uint64_t>& w = slots_[i].word;
    uint64_t v = w.load(std::memory_order_relaxed);
    // Leaving the outermost section bumps the epoch, so a writer can tell "left" from
    // "left and came back" without waiting for the slot to be idle.
    v = (v & kDepthMask) == 1 ? v - 1 + kEpochOne : v - 1;
    w.store(v, std::memory_order_release);  // the section's uses of khva stay before it
  }

  // Writers, after their store of valid = false: wait until every read section that may
  // have missed that store has ended. Sections entered later need not end. Returns false
  // if nothing was inside; `until` bounds the wait, `stop_requested()` ends it. `waits`
  // (if given) is incremented before waiting, so a test can see the writer is held.
  bool wait_for_readers(std::chrono::steady_clock::time_point until,
                        std::atomic<uint64_t>* waits = nullptr) const;

  bool asymmetric() const { return asymmetric_; }

 private:
  static constexpr uint64_t kDepthMask = 0xffff;
  static constexpr uint64_t kEpochOne = kDepthMask + 1;

  struct alignas(64) Slot {
    std::atomic<uint64_t> word{0};  // epoch << 16 | nesting depth; written by its owner only
  };

  static uint32_t& thread_slot_ref() {
    static thread_local uint32_t slot = kUnassigned;
    return slot;
  }
  static uint32_t thread_slot() {
    const uint32_t i = thread_slot_ref();
    return i != kUnassigned ? i : claim_thread_slot();
  }
  static uint32_t claim_thread_slot();
  static constexpr uint32_t kUnassigned = ~0u;

  const bool asymmetric_;
  Slot slots_[kSlots];
  alignas(64) std::atomic<uint32_t> shared_{0};
};

}  // namespace gpc::pfncache
