// The 2 MB chunk a THP invalidator works on, and the 4 KB page it zaps to split the PMD
// mapping: a page that is neither the observed page nor the cache page, so the pages
// that matter keep their contents.
#pragma once

#include "invalidators/invalidator.hpp"
#include "memory/mapping.hpp"

namespace gpc::detail {

inline uintptr_t split_page_of(const TargetPlan& plan, uintptr_t cache_page) {
  for (uintptr_t p = plan.chunk.end - kPageSize; p >= plan.chunk.start; p -= kPageSize)
    if (p != plan.observed && p != cache_page) return p;
  return plan.chunk.start;  // unreachable: a chunk has 512 pages
}

}  // namespace gpc::detail
