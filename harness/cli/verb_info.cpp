// `gpcbench info [--json]`: the environment a result would record, then every scenario,
// invalidator and facility with "runs here" or the exact reason it cannot (BRIEF §4).
// A machine without /dev/kvm (or without permission) is reported, not an error: exit 0.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/verbs.hpp"
#include "common/errors.hpp"
#include "env/environment.hpp"
#include "env/features.hpp"
#include "scenarios/pvclock_scenario.hpp"
#include "trace/trace_features.hpp"

namespace gpc::cli {
namespace {

using nlohmann::json;

std::string str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "-";
  return j.dump();
}

void row(const std::string& key, const std::string& value) {
  std::printf("  %-26s %s\n", key.c_str(), value.c_str());
}

void section(const char* title) { std::printf("\n%s\n", title); }

std::string size_text(uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} B", bytes);
}

std::string works_text(const json& probe) {
  const std::string reason = probe.value("reason", "");
  if (probe.value("works", false)) return reason.empty() ? "works" : "works (" + reason + ")";
  return "no: " + reason;
}

void print_human(const json& env, const std::vector<Feature>& features) {
  std::printf("gpcbench %s (%s) on %s, %s\n", str(env["suite"]["version"]).c_str(),
              str(env["suite"]["commit"]).c_str(), str(env["host_name"]).c_str(),
              str(env["date"]).c_str());

  section("Kernel");
  row("release", str(env["kernel"]["release"]));
  row("version", str(env["kernel"]["version"]));
  row("cmdline", str(env["kernel"]["cmdline"]));

  section("CPU");
  const json& cpu = env["cpu"];
  row("model", str(cpu["model"]));
  std::string present, absent;
  for (const auto& [flag, on] : cpu["flags"].items()) (on.get<bool>() ? present : absent) += flag + " ";
  row("flags", present.empty() ? "-" : present);
  row("flags absent", absent.empty() ? "-" : absent);
  row("MHz", str(env["mhz_per_cpu"]));
  row("frequency scaling", env.value("cpu_scaling_enabled", false) ? "on (timings may drift)" : "off");
  row("latency clock", str(cpu["clock"]["source"]) + ": " + str(cpu["clock"]["why"]));
  row("kernel clocksource", str(cpu["clocksource"]));

  section("Topology (hwloc)");
  const json& topo = env["topology"];
  if (topo.contains("error")) {
    row("error", str(topo["error"]));
  } else {
    row("summary", str(topo["summary"]));
    std::string cores;
    for (const auto& core : topo["pus_by_core"]) cores += core.dump() + " ";
    row("PUs by core", cores);
    std::string nodes;
    for (const auto& node : topo["pus_by_numa_node"]) nodes += node.dump() + " ";
    row("PUs by NUMA node", nodes);
    for (const auto& c : topo["caches"])
      row(fmt::format("L{} {}", c["level"].get<int>(), str(c["type"])),
          fmt::format("{} x{} (each shared by {} PU{})", size_text(c["size_bytes"].get<uint64_t>()),
                      c["instances"].get<int>(), c["pus_sharing"].get<int>(),
                      c["pus_sharing"].get<int>() == 1 ? "" : "s"));
  }
  if (env.contains("load_avg") && env["load_avg"].size() == 3)
    row("load average", fmt::format("{:.2f} {:.2f} {:.2f} (other load skews timings)",
                                    env["load_avg"][0].get<double>(), env["load_avg"][1].get<double>(),
                                    env["load_avg"][2].get<double>()));

  section("KVM");
  const json& kvm = env["kvm"];
  // The configured device ($GPC_KVM_DEVICE or /dev/kvm), checked as a run checks it.
  const std::string device = kvm.value("device", "/dev/kvm");
  if (kvm.value("available", false))
    row(device, fmt::format("usable (API {}, a test VM was created)", str(kvm["api_version"])));
  else
    row(device, "NOT usable: " + str(kvm["reason"]));
  std::string caps;
  for (const auto& [name, v] : kvm["caps"].items()) caps += fmt::format("{}={} ", name, v.dump());
  if (!caps.empty()) row("capabilities", caps);
  for (const auto& [name, v] : kvm["params"].items()) row(name, str(v));
  for (const auto& [name, v] : kvm["params_unreadable"].items()) row(name, "unreadable: " + str(v));

  section("Transparent huge pages");
  const json& thp = env["thp"];
  if (!thp.value("available", false)) row("THP", "NOT available: " + str(thp["reason"]));
  for (const char* k : {"enabled", "defrag", "shmem_enabled"})
    row(k, thp.contains("raw") ? fmt::format("{}  ({})", str(thp[k]), str(thp["raw"][k])) : str(thp[k]));

  section("NUMA");
  row("nodes", fmt::format("{} (online: {})", str(env["numa"]["nodes"]), str(env["numa"]["online"])));

  section("perf");
  const json& perf = env["perf"];
  row("perf_event_paranoid", str(perf["paranoid"]));
  for (const char* k : {"hardware_events", "software_events"}) {
    const json& e = perf[k];
    row(k, e.value("available", false)
               ? (e.value("reason", "").empty() ? "available" : "available (" + str(e["reason"]) + ")")
               : "NOT available: " + str(e["reason"]));
  }

  section("Memory operations (probed)");
  for (const auto& [name, probe] : env["memory"].items()) row(name, works_text(probe));
  row("CAP_SYS_ADMIN", env["process"].value("cap_sys_admin", false) ? "yes" : "no");

  section("Features");
  for (const auto& f : features) {
    std::string text = f.runs_here ? "runs here" : "NO: " + f.reason;
    if (f.runs_here && !f.reason.empty()) text += " (" + f.reason + ")";
    row(f.name, text);
  }
}

}  // namespace

void add_info_verb(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "info", "Machine, kernel, topology, KVM capabilities and parameters, THP, NUMA, perf; "
              "then every scenario and invalidator with \"runs here\" or why not");
  auto json_flag = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_flag, "Print one JSON object (the result files' context plus features)");
  cmd->callback([&exit_code, json_flag] {
    json env = capture_environment();
    auto features = probe_features(env);
    // Layer K invalidators against the pvclock page: the pvclock run's own probe.
    for (Feature& f : scenarios::pvclock_invalidator_features(find_feature(features, "scenario:pvclock")))
      features.push_back(std::move(f));
    for (Feature& f : trace::tracing_features()) features.push_back(std::move(f));  // tracepoints, kprobes, uprobes
    if (*json_flag) {
      env["features"] = to_json(features);
      std::printf("%s\n", env.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      print_human(env, features);
    }
    std::fflush(stdout);
    exit_code = kExitOk;
  });
}

}  // namespace gpc::cli
