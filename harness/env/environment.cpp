// Environment capture: every fact needed to interpret a result later, recorded with the
// reason wherever a fact cannot be read.
#include "env/environment.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "clock/cpu_flags.hpp"
#include "clock/tsc_clock.hpp"
#include "env/kvm_probe.hpp"
#include "env/memory_probes.hpp"
#include "env/preempt_model.hpp"
#include "env/sysfs.hpp"
#include "perf/counters.hpp"
#include "topology/topology.hpp"

namespace gpc {
namespace {

// Flags that change how results read: TSC invariance (timing), hypervisor (nested KVM,
// no PMU, noisy scheduling), and the features the guests and clocks use.
constexpr const char* kFlagsOfInterest[] = {
    "tsc", "constant_tsc", "nonstop_tsc", "tsc_known_freq", "rdtscp", "hypervisor",
    "vmx", "svm", "ht", "x2apic", "invpcid", "pcid", "pdpe1gb", "tsc_deadline_timer"};

std::string cpuinfo_field(const std::string& cpuinfo, const std::string& key) {
  std::istringstream in(cpuinfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
  }
  return "";
}

std::string fmt_path(const char* a, long n, const char* b) { return a + std::to_string(n) + b; }

nlohmann::json text_or_reason(const std::string& path) {
  TextFile f = read_text_file(path);
  return f.text ? nlohmann::json(*f.text) : nlohmann::json("unreadable: " + f.error);
}

nlohmann::json capture_cpu(const std::string& cpuinfo) {
  nlohmann::json cpu;
  cpu["model"] = cpuinfo_field(cpuinfo, "model name");
  cpu["vendor"] = cpuinfo_field(cpuinfo, "vendor_id");
  const auto flags = parse_cpu_flags(cpuinfo);
  for (const char* f : kFlagsOfInterest) cpu["flags"][f] = flags.count(f) > 0;
  const auto& clock = TscClock::instance();
  cpu["clock"] = {{"source", clock.source()}, {"why", clock.why()}, {"ticks_per_ns", clock.ticks_per_ns()}};
  cpu["clocksource"] = text_or_reason("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  return cpu;
}

nlohmann::json capture_topology(nlohmann::json& gb_caches) {
  nlohmann::json topo;
  try {
    const Topology& t = Topology::system();
    topo["packages"] = t.packages();
    topo["cores"] = t.cores();
    topo["pus"] = t.pus();
    topo["numa_nodes"] = t.numa_nodes();
    topo["summary"] = t.summary();
    topo["pus_by_core"] = t.pus_by_core();
    topo["pus_by_numa_node"] = t.pus_by_numa_node();
    topo["caches"] = nlohmann::json::array();
    for (const auto& c : t.caches()) {
      topo["caches"].push_back({{"level", c.level}, {"type", c.type}, {"size_bytes", c.size_bytes},
                                {"instances", c.instances}, {"pus_sharing", c.pus_sharing}});
      gb_caches.push_back({{"type", c.type}, {"level", c.level}, {"size", c.size_bytes},
                           {"num_sharing", c.pus_sharing}});
    }
  } catch (const std::exception& e) {
    topo["error"] = e.what();
  }
  return topo;
}

nlohmann::json capture_thp() {
  nlohmann::json thp;
  const std::string dir = "/sys/kernel/mm/transparent_hugepage/";
  if (!std::filesystem::exists(dir)) {
    thp["available"] = false;
    thp["reason"] = "no " + dir + ": kernel built without CONFIG_TRANSPARENT_HUGEPAGE";
    for (const char* k : {"enabled", "defrag", "shmem_enabled"}) thp[k] = "never";
    return thp;
  }
  thp["available"] = true;
  for (const char* k : {"enabled", "defrag", "shmem_enabled"}) {
    TextFile f = read_text_file(dir + k);
    thp[k] = f.text ? selected_choice(*f.text) : "unknown";
    thp["raw"][k] = f.text ? *f.text : "unreadable: " + f.error;
  }
  return thp;
}

nlohmann::json capture_numa(const nlohmann::json& topology) {
  nlohmann::json numa;
  numa["nodes"] = topology.value("numa_nodes", 1);
  numa["online"] = text_or_reason("/sys/devices/system/node/online");
  return numa;
}

nlohmann::json capture_perf() {
  nlohmann::json perf;
  TextFile paranoid = read_text_file("/proc/sys/kernel/perf_event_paranoid");
  perf["paranoid"] = paranoid.text ? nlohmann::json(std::atoi(paranoid.text->c_str())) : nlohmann::json(nullptr);
  const EventStatus hw = probe_event("cycles");
  perf["hardware_events"] = {{"available", hw.available}, {"reason", hw.reason}};
  const EventStatus sw = probe_event("task-clock");
  perf["software_events"] = {{"available", sw.available}, {"reason", sw.reason}};
  return perf;
}

// Google Benchmark's context fields, so its tools read our files unchanged.
void add_benchmark_fields(nlohmann::json& env, const std::string& cpuinfo) {
  double mhz = 0;
  TextFile max_khz = read_text_file("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
  if (max_khz.text) mhz = std::atof(max_khz.text->c_str()) / 1000.0;
  if (mhz == 0) mhz = std::atof(cpuinfo_field(cpuinfo, "cpu MHz").c_str());
  env["mhz_per_cpu"] = static_cast<long>(std::lround(mhz));
  // Frequency scaling makes timings drift; a "performance" governor (or none) does not.
  bool scaling = false;
  for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_CONF); ++cpu) {
    TextFile gov = read_text_file(fmt_path("/sys/devices/system/cpu/cpu", cpu, "/cpufreq/scaling_governor"));
    if (gov.text && *gov.text != "performance") scaling = true;
  }
  env["cpu_scaling_enabled"] = scaling;
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) env["load_avg"] = {load[0], load[1], load[2]};
#ifdef NDEBUG
  env["library_build_type"] = "release";
#else
  env["library_build_type"] = "debug";
#endif
}

}  // namespace

nlohmann::json capture_environment() {
  nlohmann::json env;
  struct utsname u = {};
  uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm local = {};
  localtime_r(&now, &local);
  std::strftime(date, sizeof date, "%FT%T%z", &local);
  env["date"] = date;
  env["host_name"] = u.nodename;
  env["num_cpus"] = sysconf(_SC_NPROCESSORS_ONLN);

  const std::string cpuinfo = read_text_file("/proc/cpuinfo").text.value_or("");
  env["kernel"] = {{"release", u.release}, {"version", u.version}, {"machine", u.machine},
                   {"cmdline", text_or_reason("/proc/cmdline")}, {"preempt", to_json(detect_preempt_model())}};
  env["cpu"] = capture_cpu(cpuinfo);
  env["caches"] = nlohmann::json::array();
  env["topology"] = capture_topology(env["caches"]);
  env["kvm"] = probe_kvm();
  env["thp"] = capture_thp();
  env["numa"] = capture_numa(env["topology"]);
  env["perf"] = capture_perf();
  env["memory"] = probe_memory_operations();
  env["process"] = {{"uid", static_cast<long>(getuid())}, {"cap_sys_admin", has_cap_sys_admin()}};
  add_benchmark_fields(env, cpuinfo);
  env["suite"] = {{"version", GPC_VERSION}, {"commit", GPC_GIT_COMMIT}};
  return env;
}

}  // namespace gpc
