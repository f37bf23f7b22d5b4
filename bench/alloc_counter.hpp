// Counts every global operator new in the process, so a benchmark can prove that the
// code it measures does not allocate (allocations inside the timed loop / iterations).
#pragma once

#include <cstdint>

namespace gpc::bench {
uint64_t allocations();
}  // namespace gpc::bench
