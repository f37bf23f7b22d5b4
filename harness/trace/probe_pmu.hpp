// The kprobe and uprobe perf PMUs (/sys/bus/event_source/devices/{kprobe,uprobe}): one
// interface for both (perf_event_open with the PMU's dynamic type; config bit
// `retprobe` selects the return probe; config1/config2 name the function: kernel symbol +
// offset, or file path + file offset). Finding them, and what to probe.
#pragma once

#include <cstdint>
#include <string>

namespace gpc::trace {

enum class ProbeKind { kprobe, uprobe };

const char* probe_kind_name(ProbeKind kind);

struct ProbePmu {
  ProbeKind kind{};
  bool available = false;
  std::string reason;    // why not, when !available
  uint32_t type = 0;     // perf_event_attr.type
  int retprobe_bit = 0;  // config bit of format/retprobe ("config:0")
};

// Reads the PMU's type and retprobe format under `sysfs_devices` (a test can point it at a
// fake tree). Missing PMU: not available, with the reason (kernel built without
// CONFIG_KPROBE_EVENTS / CONFIG_UPROBE_EVENTS, or too old for the perf probe PMUs, < 4.17).
ProbePmu find_probe_pmu(ProbeKind kind, const std::string& sysfs_devices = "/sys/bus/event_source/devices");

// The kernel's pfn cache refresh to probe: the first of `__kvm_gpc_refresh` and
// `kvm_gpc_refresh` listed as a text symbol in `kallsyms` (the contents of /proc/kallsyms),
// so an inlined one (absent from kallsyms) is never chosen. "" when neither is listed, with
// `reason` saying so.
std::string pick_refresh_symbol(const std::string& kallsyms, std::string& reason);

// /proc/kallsyms as text ("" when unreadable).
std::string read_kallsyms();

}  // namespace gpc::trace
