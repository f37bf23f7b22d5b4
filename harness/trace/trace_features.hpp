// `gpcbench info` lines for kernel tracing, from the same probes a run's KernelEvidence
// makes: "tracepoints" (a tracefs instance can be created and the kvm events exist),
// "kprobes" (the kprobe PMU and the refresh symbol), "uprobes" (an entry+return uprobe on a
// function of this very binary opens). Each is available, or says why not.
#pragma once

#include <vector>

#include "env/features.hpp"

namespace gpc::trace {

std::vector<Feature> tracing_features();

}  // namespace gpc::trace
