#include "trace/host_ops.hpp"

#include <unistd.h>

#include <ctime>

namespace gpc::trace {

uint64_t mono_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

HostOpLog::HostOpLog(size_t slots, size_t capacity) : capacity_(capacity) {
  for (size_t i = 0; i < slots; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->ops.reserve(capacity);
  }
}

void HostOpLog::record(size_t slot, uint64_t begin_ns, uint64_t end_ns) noexcept {
  thread_local const pid_t tid = gettid();
  if (slot >= slots_.size()) return;
  Slot& s = *slots_[slot];
  if (s.ops.size() >= capacity_) {
    s.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s.ops.push_back({tid, begin_ns, end_ns, slot});  // within the reservation: no allocation
}

std::vector<HostOp> HostOpLog::ops() const {
  std::vector<HostOp> out;
  for (const auto& s : slots_) out.insert(out.end(), s->ops.begin(), s->ops.end());
  return out;
}

uint64_t HostOpLog::dropped() const {
  uint64_t n = 0;
  for (const auto& s : slots_) n += s->dropped.load(std::memory_order_relaxed);
  return n;
}

}  // namespace gpc::trace
