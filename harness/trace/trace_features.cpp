#include "trace/trace_features.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "trace/probe_reader.hpp"
#include "trace/trace_instance.hpp"
#include "trace/tracefs_root.hpp"

namespace gpc::trace {
namespace {

bool has_event(const std::string& tracefs, const char* event) {
  struct stat st {};
  return ::stat(fmt::format("{}/events/kvm/{}", tracefs, event).c_str(), &st) == 0;
}

Feature tracepoints() {
  std::string reason;
  const auto root = TracefsRoot::open(reason);
  if (!root) return {"tracepoints", false, reason};
  try {
    TraceInstance::create(*root, {});  // created and removed: proves the run can own one
  } catch (const UnavailableError& e) {
    return {"tracepoints", false, e.what()};
  }
  std::string missing;
  for (const char* e : {"kvm_unmap_hva_range", "kvm_pvclock_update", "kvm_exit"})
    if (!has_event(root->path(), e)) missing += (missing.empty() ? "" : ", ") + std::string(e);
  if (!missing.empty())
    return {"tracepoints", false,
            fmt::format("tracefs works ({}) but the kvm events {} are missing: is the kvm module loaded?",
                        root->how(), missing)};
  std::string note;
  if (kvm_vendor_module() == "kvm_pvm")
    note = "; the vendor module is kvm_pvm, which does not emit kvm_exit: exits by reason are left out";
  return {"tracepoints", true, "available: " + root->how() + "; kvm events present" + note};
}

Feature kprobes() {
  const ProbePmu pmu = find_probe_pmu(ProbeKind::kprobe);
  if (!pmu.available) return {"kprobes", false, pmu.reason + "; the kernel's refresh count and latency are not measured"};
  std::string reason;
  const std::string symbol = pick_refresh_symbol(read_kallsyms(), reason);
  if (symbol.empty()) return {"kprobes", false, "kprobe PMU present, but " + reason};
  if (!ProbeReader::open({ProbeKind::kprobe, symbol, 0, symbol}, 0, reason)) return {"kprobes", false, reason};
  return {"kprobes", true, "available: entry and return of " + symbol};
}

// A function of this binary for the uprobe check: never inlined, so it has an address.
[[gnu::noinline]] int uprobe_check_target(int x) { return x + 1; }

Feature uprobes() {
  const ProbePmu pmu = find_probe_pmu(ProbeKind::uprobe);
  if (!pmu.available) return {"uprobes", false, pmu.reason};
  std::string reason;
  try {
    const ProbeSpec spec = uprobe_of(reinterpret_cast<const void*>(&uprobe_check_target), "uprobe_check_target");
    if (!ProbeReader::open(spec, 0, reason)) return {"uprobes", false, reason};
  } catch (const UnavailableError& e) {
    return {"uprobes", false, e.what()};
  }
  return {"uprobes", true, "available (used by the probe reader's tests; layer K uses kprobes)"};
}

}  // namespace

std::string kvm_vendor_module() {
  struct stat st {};
  for (const char* m : {"kvm_intel", "kvm_amd", "kvm_pvm"})
    if (::stat(fmt::format("/sys/module/{}", m).c_str(), &st) == 0) return m;
  return "";
}

std::vector<Feature> tracing_features() { return {tracepoints(), kprobes(), uprobes()}; }

}  // namespace gpc::trace
