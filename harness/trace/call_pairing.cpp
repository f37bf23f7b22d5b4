#include "trace/call_pairing.hpp"

#include <algorithm>
#include <tuple>

namespace gpc::trace {

CallStats pair_calls(std::vector<ProbeHit> hits) {
  // An entry and its return can carry the same time on a coarse clock: entries first.
  std::sort(hits.begin(), hits.end(), [](const ProbeHit& a, const ProbeHit& b) {
    return std::tie(a.tid, a.time_ns, a.is_return) < std::tie(b.tid, b.time_ns, b.is_return);
  });
  CallStats out;
  std::vector<uint64_t> open;  // entry times of the current thread, innermost last
  for (size_t i = 0; i < hits.size(); ++i) {
    if (i > 0 && hits[i].tid != hits[i - 1].tid) {
      out.unmatched_entries += open.size();
      open.clear();
    }
    const ProbeHit& h = hits[i];
    if (!h.is_return) {
      open.push_back(h.time_ns);
    } else if (open.empty()) {
      ++out.unmatched_returns;
    } else {
      out.latency_ns.record(h.time_ns - open.back());
      open.pop_back();
      ++out.calls;
    }
  }
  out.unmatched_entries += open.size();
  return out;
}

}  // namespace gpc::trace
