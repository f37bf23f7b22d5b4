// Whether two shards ran on comparable machines. docs/methodology.md: numbers are comparable
// only within one machine kind, kernel and configuration, so `matrix --merge` refuses shards
// whose environment.json differ in any field listed here (docs/matrix-format.md, "Sharding").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gpc::matrix {

struct EnvDifference {
  std::string field;  // dotted path, e.g. "kernel.release" or "kvm.params.kvm.halt_poll_ns"
  std::string a, b;   // the two values as JSON text ("null" when absent)
};

// The fields that must match, as dotted paths into environment.json.
const std::vector<std::string>& compared_environment_fields();

// Every compared field whose value differs between `a` and `b`. Object-valued fields (KVM
// module parameters) are compared key by key, so the difference names the parameter.
std::vector<EnvDifference> environment_differences(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace gpc::matrix
