// `gpcbench info` lines for kernel tracing, from the same probes a run's KernelEvidence
// makes: "tracepoints" (a tracefs instance can be created and the kvm events exist),
// "kprobes" (the kprobe PMU and the refresh symbol), "uprobes" (an entry+return uprobe on a
// function of this very binary opens). Each is available, or says why not.
#pragma once

#include <string>
#include <vector>

#include "env/features.hpp"

namespace gpc::trace {

std::vector<Feature> tracing_features();

// The x86 KVM vendor module loaded here ("kvm_intel", "kvm_amd", "kvm_pvm"), or "". It is
// the one that emits kvm:kvm_exit (vmx_handle_exit / svm_handle_exit call trace_kvm_exit);
// kvm_pvm was seen never to (2026-12-01, 6.18): layer-K runs then leave exits out.
std::string kvm_vendor_module();

}  // namespace gpc::trace
