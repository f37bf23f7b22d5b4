// Environment capture: everything a result needs to be interpreted later (kernel, CPU,
// topology, KVM capabilities and module parameters, THP modes, NUMA, perf, suite commit).
// Every result file's `context` starts from capture_environment().
#pragma once

#include <nlohmann/json.hpp>

namespace gpc {

// Never throws for a missing facility: what cannot be read is recorded with the reason.
nlohmann::json capture_environment();

}  // namespace gpc
