#include "trace/evidence_counters.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace gpc::trace {

OpMatch match_ops(std::vector<UnmapEvent> events, std::vector<HostOp> ops) {
  auto by_tid_time = [](const auto& a, const auto& b) { return std::tie(a.tid, a.ts_ns) < std::tie(b.tid, b.ts_ns); };
  std::sort(events.begin(), events.end(), by_tid_time);
  std::sort(ops.begin(), ops.end(),
            [](const HostOp& a, const HostOp& b) { return std::tie(a.tid, a.begin_ns) < std::tie(b.tid, b.begin_ns); });
  OpMatch m;
  m.ops = ops.size();
  // Both sorted by (thread, time): one merge pass. An op of one thread never overlaps the
  // next op of that thread, so each event belongs to at most one op.
  size_t e = 0;
  for (const HostOp& op : ops) {
    while (e < events.size() && std::tie(events[e].tid, events[e].ts_ns) < std::tie(op.tid, op.begin_ns)) ++e;
    bool first = true;
    for (; e < events.size() && events[e].tid == op.tid && events[e].ts_ns <= op.end_ns; ++e) {
      ++m.events_in_ops;
      if (first) m.delay_ns.record(events[e].ts_ns - op.begin_ns);
      first = false;
    }
    if (!first) ++m.ops_reaching_kvm;
  }
  return m;
}

uint64_t count_overlapping(const std::vector<UnmapEvent>& events, uint64_t hva, uint64_t len) {
  return static_cast<uint64_t>(std::count_if(events.begin(), events.end(), [&](const UnmapEvent& e) {
    return e.start < hva + len && hva < e.end;
  }));
}

std::string exit_reason_from_text(const std::string& text) {
  const std::string key = "reason ";
  const size_t at = text.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size();
  const size_t end = text.find(' ', begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string exit_counter_name(const std::string& reason) {
  std::string out = "ktrace_exit_";
  for (unsigned char c : reason) out += std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
  return out;
}

}  // namespace gpc::trace
