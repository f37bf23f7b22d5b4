// The invalidators' content check: did a step lose the observed page's contents? Bytes
// that other threads write while steps run (a `run cache` writer's event slot and record
// on its own page) are left out: a change there is a concurrent write, not a loss, and
// the scenario's own invariants (no lost event, counter never backwards) judge them.
// Issue 15: `inval_content_lost` counted 34-42 per loaded `--target cache` run and 0 with
// `--target neighbour` (docs/invalidators.md).
#pragma once

#include <cstddef>
#include <vector>

namespace gpc {

// [offset, offset + length) within one page.
struct PageBytes {
  size_t offset = 0;
  size_t length = 0;
};

// Whether `before` and `after` (each `size` bytes) are equal outside `skip`. Ranges may
// overlap, come in any order, and reach past `size` (clipped).
bool same_content_outside(const void* before, const void* after, size_t size, const std::vector<PageBytes>& skip);

}  // namespace gpc
