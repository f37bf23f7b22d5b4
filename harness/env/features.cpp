#include "env/features.hpp"

#include <fmt/format.h>

#include "common/errors.hpp"

namespace gpc {
namespace {

using nlohmann::json;

// Reads a value at a JSON pointer, or `fallback` when the environment lacks it (an older
// result file, or a synthetic environment in a test).
template <typename T>
T at(const json& env, const char* pointer, T fallback) {
  const json::json_pointer p(pointer);
  if (!env.contains(p) || env.at(p).is_null()) return fallback;
  try {
    return env.at(p).get<T>();
  } catch (const json::exception&) {
    return fallback;
  }
}

Feature from_probe(const json& env, const std::string& name, const char* probe) {
  const std::string base = std::string(probe);
  return {name, at<bool>(env, (base + "/works").c_str(), false),
          at<std::string>(env, (base + "/reason").c_str(), "not probed")};
}

std::string kvm_unusable_reason(const json& env) {
  if (at<bool>(env, "/kvm/available", false)) return "";
  const std::string r = at<std::string>(env, "/kvm/reason", "");
  return r.empty() ? "KVM not probed" : r;
}

Feature xen_shared_info(const json& env) {
  Feature f{"scenario:xen-shared-info", false, ""};
  if (std::string r = kvm_unusable_reason(env); !r.empty()) {
    f.reason = r;
    return f;
  }
  const std::string machine = at<std::string>(env, "/kernel/machine", "x86_64");
  const long xen = at<long>(env, "/kvm/caps/XEN_HVM", 0);
  if (xen == 0) {
    f.reason = machine == "x86_64" || machine.empty()
                   ? "KVM_CAP_XEN_HVM=0: kernel built without CONFIG_KVM_XEN"
                   : "KVM_CAP_XEN_HVM=0: Xen emulation exists only in x86 KVM, this is " + machine;
    return f;
  }
  if (!(xen & (1 << 2))) {
    f.reason = fmt::format("KVM_CAP_XEN_HVM={:#x} lacks KVM_XEN_HVM_CONFIG_SHARED_INFO: kernel "
                           "older than 5.12",
                           xen);
    return f;
  }
  f.runs_here = true;
  return f;
}

Feature thp_invalidator(const json& env, const std::string& name) {
  const std::string enabled = at<std::string>(env, "/thp/enabled", "never");
  if (enabled == "never")
    return {name, false,
            "anon THP enabled=never; set /sys/kernel/mm/transparent_hugepage/enabled to "
            "madvise to enable"};
  if (!at<bool>(env, "/memory/madv_collapse/works", false))
    return {name, false, at<std::string>(env, "/memory/madv_collapse/reason", "MADV_COLLAPSE not probed")};
  return {name, true, ""};
}

Feature needs_two_nodes(const json& env, const std::string& name, const char* why) {
  const int nodes = at<int>(env, "/numa/nodes", 1);
  if (nodes < 2) return {name, false, fmt::format("{} NUMA node: {}", nodes, why)};
  if (!at<bool>(env, "/memory/move_pages/works", false))
    return {name, false, at<std::string>(env, "/memory/move_pages/reason", "move_pages not probed")};
  return {name, true, ""};
}

}  // namespace

std::vector<Feature> probe_features(const json& env) {
  std::vector<Feature> out;
  const std::string kvm_reason = kvm_unusable_reason(env);
  const bool memfd = at<bool>(env, "/memory/memfd/works", false);
  const std::string memfd_reason = at<std::string>(env, "/memory/memfd/reason", "memfd not probed");

  // Layer K: the running kernel's pfn caches.
  out.push_back({"scenario:pvclock", kvm_reason.empty(), kvm_reason});
  out.push_back(xen_shared_info(env));
  const int pus = at<int>(env, "/topology/pus", 1);
  // pingpong runs a guest (kvm::Kvm in run_pingpong): it needs KVM first, like pvclock.
  if (!kvm_reason.empty())
    out.push_back({"scenario:pingpong", false, kvm_reason});
  else
    out.push_back({"scenario:pingpong", pus >= 2, pus >= 2 ? "" : "1 PU: a cross-PU ping-pong needs 2 PUs"});

  // Layer E: the embedded cache; its guest-side reader prefers a real guest.
  if (!memfd)
    out.push_back({"scenario:cache", false, "guest memory is a memfd: " + memfd_reason});
  else if (!kvm_reason.empty())
    out.push_back({"scenario:cache", true,
                   "guest reader needs /dev/kvm (" + kvm_reason + "); a host reader thread stands in"});
  else
    out.push_back({"scenario:cache", true, "guest reader runs under /dev/kvm"});

  // Invalidators: real memory operations on memfd-backed guest memory.
  for (const char* name : {"mremap", "mmap-fixed", "zap", "mprotect"})
    out.push_back({std::string("invalidator:") + name, memfd, memfd ? "" : memfd_reason});
  out.push_back(from_probe(env, "invalidator:punch-hole", "/memory/punch_hole"));
  out.push_back(thp_invalidator(env, "invalidator:thp-split"));
  out.push_back(thp_invalidator(env, "invalidator:thp-collapse"));
  out.push_back(needs_two_nodes(env, "invalidator:migrate", "move_pages has no other node to move pages to"));
  {
    Feature compact = from_probe(env, "invalidator:compact", "/memory/compact_memory");
    if (compact.runs_here)
      compact.reason = "only behind an explicit flag: writes /proc/sys/vm/compact_memory, which "
                       "compacts all memory of the machine";
    out.push_back(compact);
  }

  // Optional facilities.
  const std::string shmem = at<std::string>(env, "/thp/shmem_enabled", "never");
  if (shmem == "never" || shmem == "deny")
    out.push_back({"shmem-thp", false, "shmem_enabled=" + shmem + ", set it to advise to enable"});
  else
    out.push_back({"shmem-thp", true, "shmem_enabled=" + shmem});
  out.push_back(needs_two_nodes(env, "cross-node-migration", "moving a cached page across nodes needs 2"));
  out.push_back({"hardware-counters", at<bool>(env, "/perf/hardware_events/available", false),
                 at<std::string>(env, "/perf/hardware_events/reason", "not probed")});
  out.push_back(from_probe(env, "pagemap-pfns", "/memory/pagemap"));
  out.push_back(from_probe(env, "kpageflags", "/memory/kpageflags"));
  return out;
}

Feature find_feature(const std::vector<Feature>& features, const std::string& name) {
  std::string known;
  for (const auto& f : features) {
    if (f.name == name) return f;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  throw UsageError("unknown feature '" + name + "'; known: " + known);
}

json to_json(const std::vector<Feature>& features) {
  json out = json::array();
  for (const auto& f : features) out.push_back({{"name", f.name}, {"runs_here", f.runs_here}, {"reason", f.reason}});
  return out;
}

}  // namespace gpc
