// Capability probes: for every scenario, invalidator and optional facility, whether it
// runs on this machine and, if not, the exact reason. A pure function of the captured
// environment, so what `gpcbench info` says is what the result files record.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gpc {

struct Feature {
  std::string name;     // "scenario:pvclock", "invalidator:thp-collapse", "pagemap-pfns", ...
  bool runs_here = false;
  std::string reason;   // why not; or a note on how it runs here (may be empty)
};

std::vector<Feature> probe_features(const nlohmann::json& env);

// The feature named `name`, or UsageError naming the known ones.
Feature find_feature(const std::vector<Feature>& features, const std::string& name);

nlohmann::json to_json(const std::vector<Feature>& features);

}  // namespace gpc
