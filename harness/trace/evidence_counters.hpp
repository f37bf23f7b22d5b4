// What the kernel's events say about a run, as plain data and arithmetic (no tracing
// here, so every formula is unit-tested on synthetic events): invalidations KVM handled
// per host operation, the delay from an operation's start to KVM's notifier, pvclock writes
// per guest-observed update, exits by reason.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/histogram.hpp"
#include "trace/host_ops.hpp"

namespace gpc::trace {

// One kvm:kvm_unmap_hva_range: KVM's MMU notifier (kvm_mmu_notifier_invalidate_range_start
// in virt/kvm/kvm_main.c) handling an invalidation of [start, end).
struct UnmapEvent {
  uint64_t ts_ns = 0;
  pid_t tid = 0;
  uint64_t start = 0, end = 0;
};

struct OpMatch {
  uint64_t ops = 0;               // host operations given
  uint64_t ops_reaching_kvm = 0;  // with at least one event inside them
  uint64_t events_in_ops = 0;     // events inside an operation (same thread, in [begin, end])
  Histogram delay_ns;             // first event of an op - op begin
};

// Matches events to the operation of the same thread whose [begin, end] holds them.
OpMatch match_ops(std::vector<UnmapEvent> events, std::vector<HostOp> ops);

// Events whose range overlaps [hva, hva + len).
uint64_t count_overlapping(const std::vector<UnmapEvent>& events, uint64_t hva, uint64_t len);

// "EXTERNAL_INTERRUPT" from the kernel's rendering of kvm_exit ("vcpu 0 reason
// EXTERNAL_INTERRUPT rip 0x... info1 ..."); "" when there is no "reason " token.
std::string exit_reason_from_text(const std::string& text);

// "ktrace_exit_external_interrupt": lower case, anything but [a-z0-9] becomes '_'.
std::string exit_counter_name(const std::string& reason);

}  // namespace gpc::trace
