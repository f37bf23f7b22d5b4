// Environment capture: everything a result needs to be interpreted later (kernel, CPU,
// topology, KVM capabilities and module parameters, THP modes, NUMA, perf, suite commit).
// Every result file's `context` starts from capture_environment(); docs/environment.md
// explains each key.
#pragma once

#include <nlohmann/json.hpp>

namespace gpc {

// Never throws for a missing facility: what cannot be read is recorded with the reason.
// Top-level keys: date, host_name, num_cpus, mhz_per_cpu, cpu_scaling_enabled, caches,
// load_avg, library_build_type (Google Benchmark's), kernel, cpu, topology, kvm, thp,
// numa, perf, memory (live probes of memory operations), process, suite.
// Takes ~30 ms (TSC calibration on first use, a THP collapse, a throwaway VM).
nlohmann::json capture_environment();

}  // namespace gpc
