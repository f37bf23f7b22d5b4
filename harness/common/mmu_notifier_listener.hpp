// What an invalidator calls around a real memory operation, exactly where the kernel's
// MMU notifier would fire: start before the host mapping changes, end after it changed.
// The embedded pfn cache's per-VM notifier state (pfncache/) implements it; layer K
// invalidators run with no listener (the kernel's own notifier fires instead).
#pragma once

#include <cstdint>

namespace gpc {

class MmuNotifierListener {
 public:
  virtual ~MmuNotifierListener() = default;
  // [start, end) host virtual range about to change; must not return before every
  // secondary mapping of the range that the contract requires to be dropped is dropped.
  virtual void invalidate_range_start(uintptr_t start, uintptr_t end) = 0;
  // The same range, after the change is complete.
  virtual void invalidate_range_end(uintptr_t start, uintptr_t end) = 0;
};

}  // namespace gpc
