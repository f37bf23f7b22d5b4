#include "pfncache/reader_slots.hpp"

#include <immintrin.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "common/stop.hpp"

namespace gpc::pfncache {
namespace {

#if defined(__SANITIZE_THREAD__)
#define GPC_READER_SLOTS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GPC_READER_SLOTS_TSAN 1
#endif
#endif

long membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0u, 0); }

// Once per process. TSan: never, see the header.
bool register_membarrier() {
#if defined(GPC_READER_SLOTS_TSAN)
  return false;
#else
  const long cmds = membarrier(MEMBARRIER_CMD_QUERY);
  if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
}

bool asymmetric_fence_available() {
  static const bool available = register_membarrier();
  return available;
}

// Slot indices are process-wide; a thread returns its index when it exits. Leaked on
// purpose: threads may exit after static destructors ran.
struct SlotPool {
  std::mutex mu;
  std::bitset<ReaderSlots::kSlots> used;
};
SlotPool& pool() {
  static SlotPool* p = new SlotPool;
  return *p;
}

struct SlotReturn {
  uint32_t index = ReaderSlots::kShared;
  uint32_t* thread_slot = nullptr;
  ~SlotReturn() {
    // A later thread_local destructor that reads a cache uses the shared counter.
    if (thread_slot) *thread_slot = ReaderSlots::kShared;
    if (index == ReaderSlots::kShared) return;
    std::lock_guard<std::mutex> g(pool().mu);
    pool().used.reset(index);
  }
};

}  // namespace

ReaderSlots::ReaderSlots() : asymmetric_(asymmetric_fence_available()) {}

uint32_t ReaderSlots::claim_thread_slot() {
  static thread_local SlotReturn on_exit;
  uint32_t i = kShared;
  {
    std::lock_guard<std::mutex> g(pool().mu);
    for (uint32_t k = 0; k < kSlots; ++k) {
      if (!pool().used.test(k)) {
        pool().used.set(k);
        i = k;
        break;
      }
    }
  }
  on_exit.index = i;
  on_exit.thread_slot = &thread_slot_ref();
  thread_slot_ref() = i;
  return i;
}

bool ReaderSlots::wait_for_readers(std::chrono::steady_clock::time_point until,
                                   std::atomic<uint64_t>* waits) const {
  if (asymmetric_ && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
    // Registered at construction, so the kernel cannot refuse; carrying on would let a
    // reader use a page about to be unmapped.
    std::perror("gpcbench: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)");
    std::abort();
  }
  // Snapshot the sections in progress; only they can have missed valid == false.
  uint64_t seen[kSlots];
  bool any = false;
  for (uint32_t k = 0; k < kSlots; ++k) {
    seen[k] = slots_[k].word.load(std::memory_order_seq_cst);
    any |= (seen[k] & kDepthMask) != 0;
  }
  const bool shared_inside = shared_.load(std::memory_order_seq_cst) != 0;
  if (!any && !shared_inside) return false;
  if (waits) waits->fetch_add(1, std::memory_order_relaxed);

  auto still_inside = [&] {
    for (uint32_t k = 0; k < kSlots; ++k) {
      if ((seen[k] & kDepthMask) == 0) continue;
      // A different epoch means the section seen above has ended.
      if ((slots_[k].word.load(std::memory_order_acquire) & ~kDepthMask) ==
          (seen[k] & ~kDepthMask))
        return true;
      seen[k] = 0;
    }
    // The shared counter has no epochs: wait for it to drain, as a single counter must.
    return shared_inside && shared_.load(std::memory_order_acquire) != 0;
  };
  for (int spins = 0; still_inside(); ++spins) {
    if (spins % 64 == 63) {
      sched_yield();
      if (stop_requested() || std::chrono::steady_clock::now() >= until) break;
    } else {
      _mm_pause();
    }
  }
  return true;
}

}  // namespace gpc::pfncache
