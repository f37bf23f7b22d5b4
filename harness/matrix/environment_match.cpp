#include "matrix/environment_match.hpp"

#include <set>

namespace gpc::matrix {
using nlohmann::json;

const std::vector<std::string>& compared_environment_fields() {
  // What docs/methodology.md says changes the numbers: the kernel, the CPU and its layout,
  // THP (which pages back guest memory), KVM's module parameters (halt polling, ...), and the
  // gpcbench build itself.
  static const std::vector<std::string> fields = {
      "kernel.release", "cpu.model", "topology.packages", "topology.cores", "topology.pus",
      "topology.numa_nodes", "thp.enabled", "thp.defrag", "thp.shmem_enabled", "kvm.params", "suite.commit"};
  return fields;
}

namespace {

// The value at a dotted path; null when any step is missing.
json at_path(const json& doc, const std::string& dotted) {
  const json* node = &doc;
  size_t start = 0;
  while (start <= dotted.size()) {
    const size_t dot = dotted.find('.', start);
    const std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *node;
}

void compare_objects(const std::string& field, const json& a, const json& b, std::vector<EnvDifference>& out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a.items()) keys.insert(k);
  for (const auto& [k, v] : b.items()) keys.insert(k);
  for (const auto& k : keys) {
    const json va = a.contains(k) ? a[k] : json(nullptr);
    const json vb = b.contains(k) ? b[k] : json(nullptr);
    if (va != vb) out.push_back({field + "." + k, va.dump(), vb.dump()});
  }
}

}  // namespace

std::vector<EnvDifference> environment_differences(const json& a, const json& b) {
  std::vector<EnvDifference> out;
  for (const auto& field : compared_environment_fields()) {
    const json va = at_path(a, field), vb = at_path(b, field);
    if (va == vb) continue;
    if (va.is_object() && vb.is_object()) compare_objects(field, va, vb, out);
    else out.push_back({field, va.dump(), vb.dump()});
  }
  return out;
}

}  // namespace gpc::matrix
