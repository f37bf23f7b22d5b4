// Fault a page in without using its content, as get_user_pages() brings a page in without
// reading it.
#pragma once

#include <cstdint>

namespace gpc {

// Guest writers may write the page at the same moment; the byte read is discarded, so
// ThreadSanitizer is told not to instrument this one read (CI's tsan run of
// RandomRun.InvariantsHold flagged MemfdResolver's touch as a race with the checker's
// writes, 2026-12-01). noinline: GCC will not inline a no_sanitize function into an
// instrumented caller, and the attribute must not be lost if it ever did.
[[gnu::noinline, gnu::no_sanitize_thread]] inline void fault_in(const void* page) {
  (void)*static_cast<volatile const std::uint8_t*>(page);
}

}  // namespace gpc
