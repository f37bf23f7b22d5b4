// Entry and return probe hits -> calls: per thread, each return closes the most recent
// open entry (a stack, so recursion pairs correctly). The hits come from several per-CPU
// buffers, so they are sorted by time first; a thread that migrates mid-call still pairs
// because both probes stamp CLOCK_MONOTONIC.
#pragma once

#include <cstdint>
#include <vector>

#include "common/histogram.hpp"

namespace gpc::trace {

struct ProbeHit {
  uint64_t time_ns = 0;  // CLOCK_MONOTONIC
  uint32_t tid = 0;
  bool is_return = false;
};

struct CallStats {
  uint64_t calls = 0;              // entries paired with their return
  uint64_t unmatched_entries = 0;  // still running at stop
  uint64_t unmatched_returns = 0;  // entered before start
  Histogram latency_ns;            // return - entry, per paired call
};

// Sorts `hits` (by thread, then time) and pairs them.
CallStats pair_calls(std::vector<ProbeHit> hits);

}  // namespace gpc::trace
