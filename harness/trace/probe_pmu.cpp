#include "trace/probe_pmu.hpp"

#include <sstream>

#include <fmt/format.h>

#include "env/sysfs.hpp"

namespace gpc::trace {
namespace {

std::string read_text(const std::string& path) { return read_text_file(path).text.value_or(""); }

}  // namespace

const char* probe_kind_name(ProbeKind kind) { return kind == ProbeKind::kprobe ? "kprobe" : "uprobe"; }

ProbePmu find_probe_pmu(ProbeKind kind, const std::string& sysfs_devices) {
  ProbePmu pmu;
  pmu.kind = kind;
  const std::string name = probe_kind_name(kind);
  const std::string dir = sysfs_devices + "/" + name;
  const std::string type = read_text(dir + "/type");
  if (type.empty()) {
    pmu.reason = fmt::format("no {} PMU ({} is missing): kernel built without CONFIG_{}_EVENTS, or older than "
                             "4.17",
                             name, dir, kind == ProbeKind::kprobe ? "KPROBE" : "UPROBE");
    return pmu;
  }
  pmu.type = static_cast<uint32_t>(std::stoul(type));
  // format/retprobe reads "config:0": the bit of attr.config that asks for a return probe.
  const std::string fmt_text = read_text(dir + "/format/retprobe");
  const size_t colon = fmt_text.find(':');
  if (fmt_text.rfind("config:", 0) != 0 || colon + 1 >= fmt_text.size()) {
    pmu.reason = fmt::format("the {} PMU has no format/retprobe ('{}'): return probes unsupported", name, fmt_text);
    return pmu;
  }
  pmu.retprobe_bit = std::stoi(fmt_text.substr(colon + 1));
  pmu.available = true;
  return pmu;
}

std::string read_kallsyms() { return read_text("/proc/kallsyms"); }

std::string pick_refresh_symbol(const std::string& kallsyms, std::string& reason) {
  for (const char* candidate : {"__kvm_gpc_refresh", "kvm_gpc_refresh"}) {
    std::istringstream in(kallsyms);
    std::string line;
    while (std::getline(in, line)) {
      // "ffffffff8128ab90 t __kvm_gpc_refresh" or "... t __kvm_gpc_refresh\t[kvm]"
      std::istringstream fields(line);
      std::string addr, type, symbol;
      fields >> addr >> type >> symbol;
      if (symbol == candidate && (type == "t" || type == "T")) return candidate;
    }
  }
  reason = kallsyms.empty() ? "/proc/kallsyms is unreadable"
                            : "neither __kvm_gpc_refresh nor kvm_gpc_refresh is a text symbol in /proc/kallsyms "
                              "(kvm not loaded, or both inlined)";
  return "";
}

}  // namespace gpc::trace
