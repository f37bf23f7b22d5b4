// `gpcbench run xen-evtchn` (alias `xen`), layer K: the host sends event channels with
// KVM_XEN_HVM_EVTCHN_SEND, which KVM sets in shared_info through the VM's shared_info
// gfn_to_pfn_cache (and flags in vcpu_info through each vCPU's), while optional host
// invalidators change the memory behind shared_info. Each vCPU's guest (guests/xen.c)
// consumes its port's bit; a handshake (evtchn_ledger.hpp) makes every send either
// delivered once or provably lost. Measures send latency (the ioctl, steady clock) and
// counts delivered/lost/duplicated events. Needs KVM_CAP_XEN_HVM; without it: exit 2.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <vector>

#include "common/histogram.hpp"
#include "invalidators/runner.hpp"
#include "results/result_file.hpp"
#include "scenarios/evtchn_ledger.hpp"
#include "scenarios/layer_k_invalidation.hpp"
#include "scenarios/placement_plan.hpp"
#include "scenarios/run_options.hpp"

namespace gpc::scenarios {

// Same default as pvclock (anonymous THP, so thp-split runs). Unlike the pvclock page,
// KVM never rewrites shared_info, so zap on anonymous memory (which discards it) is refused:
// use --backing memfd for zap and punch-hole.
inline constexpr BackingKind kXenEvtchnDefaultBacking = BackingKind::anonymous;
// shared_info is the data slot's first page; vCPU i's vcpu_info and runstate sit 32 KB into
// its 64 KB area, so a `cache` range from shared_info of up to 32 KB touches no other page
// KVM maps, and the `neighbour` half of the 2 MB chunk holds none.
inline constexpr size_t kXenEvtchnMaxRange = 0x8000;

struct XenEvtchnParams : InvalidationOptions {
  XenEvtchnParams() { backing = kXenEvtchnDefaultBacking; }
  RunOptions run;
  PlacementOptions placement;  // --smt, --overcommit (plan_layer_k)
  int vcpus = 1;
  Nanos send_interval{0};                           // pause after a round that sent; 0 = none
  Nanos idle_poll = std::chrono::microseconds(20);  // pause after a round where every bit was still set
};

// UsageError for a bad vCPU count, range size, rate or interval (names the valid values).
void validate_xen_evtchn(const XenEvtchnParams& params);
// "xen-evtchn/vcpus:N[/invalidator:L/target:T[/rate:R]]".
std::string xen_evtchn_record_name(const XenEvtchnParams& params);
// probe() for `type` against the shared_info page (content loss not accepted); mprotect on
// the page itself is refused: the guest writes it (clearing bits) and KVM's refresh needs
// it writable.
ProbeResult probe_xen_evtchn_invalidator(InvalidatorType type, Target target,
                                         BackingKind backing = kXenEvtchnDefaultBacking);

struct XenEvtchnVcpuResult {
  int vcpu = 0;
  int pu = -1;
  uint32_t port = 0;
  bool reported = false;  // REPORT after the final sweep (false: Ctrl-C cut the run short)
  EvtchnCounts events;
  uint64_t upcalls = 0;
  uint64_t runstate_bad = 0;
};

struct XenEvtchnResult {
  std::vector<XenEvtchnVcpuResult> vcpus;
  EvtchnCounts total;
  bool judged = false;  // every vCPU made its final sweep: lost/duplicated are exact
  bool interrupted = false;
  Placement placement;
  std::vector<InvalidatorStats> invalidators;
  Histogram send_latency;  // ns per KVM_XEN_HVM_EVTCHN_SEND
  double send_seconds = 0;
  uint64_t event_violations = 0;  // unexplained lost + duplicated (when judged)
  uint64_t runstate_bad = 0;
  BenchmarkRecord record;
  nlohmann::json run;
  uint64_t violations() const { return event_violations + runstate_bad; }
};

// Throws UsageError for bad parameters, UnavailableError (with the reason) where KVM has no
// usable Xen emulation or an invalidator cannot run here, and the VMM's errors when the run
// itself fails.
XenEvtchnResult run_xen_evtchn(const XenEvtchnParams& params);
void print_xen_evtchn_table(const XenEvtchnResult& result);
void add_xen_evtchn_scenario(CLI::App& run, int& exit_code);

}  // namespace gpc::scenarios
