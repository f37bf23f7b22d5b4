// Test helpers: a listener that records every bracket call, and page patterns.
#pragma once

#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "common/backing_lookup.hpp"
#include "common/mmu_notifier_listener.hpp"
#include "memory/mapping.hpp"

namespace gpc::test {

struct BracketCall {
  bool start = false;
  uintptr_t begin = 0, end = 0;
  std::optional<uint64_t> offset_seen;  // what the BackingLookup said about `probe` then
};

class RecordingListener : public MmuNotifierListener {
 public:
  RecordingListener(const BackingLookup* lookup = nullptr, uintptr_t probe = 0) : lookup_(lookup), probe_(probe) {}
  void invalidate_range_start(uintptr_t s, uintptr_t e) override { push(true, s, e); }
  void invalidate_range_end(uintptr_t s, uintptr_t e) override { push(false, s, e); }
  std::vector<BracketCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  void push(bool start, uintptr_t s, uintptr_t e) {
    std::lock_guard lock(mutex_);
    calls_.push_back({start, s, e, lookup_ ? lookup_->memfd_offset_of(probe_) : std::nullopt});
  }
  const BackingLookup* lookup_;
  uintptr_t probe_;
  mutable std::mutex mutex_;
  std::vector<BracketCall> calls_;
};

inline void fill_page(uintptr_t page, unsigned seed) {
  auto* p = reinterpret_cast<unsigned char*>(page);
  for (size_t i = 0; i < kPageSize; ++i) p[i] = static_cast<unsigned char>(seed * 131 + i * 7 + 1);
}

inline bool page_has_pattern(uintptr_t page, unsigned seed) {
  auto* p = reinterpret_cast<const unsigned char*>(page);
  for (size_t i = 0; i < kPageSize; ++i)
    if (p[i] != static_cast<unsigned char>(seed * 131 + i * 7 + 1)) return false;
  return true;
}

}  // namespace gpc::test
