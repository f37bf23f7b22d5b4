// A stand-in for `gpcbench run` in the matrix tests: parses the run contract's flags and
// writes a result file with seeded synthetic latencies, so the executor, report and compare
// can be tested without KVM or the real scenarios. Behaviour knobs (substring of the cell
// name; "*" matches all):
//   GPC_FAKE_HANG=S         sleep far past any bound (tests the timeout)
//   GPC_FAKE_VIOLATION=S    report violations = 1 and exit 1
//   GPC_FAKE_UNAVAILABLE=S  exit 2 as a machine that cannot run the scenario
//   GPC_FAKE_CRASH=S        exit 3 without a result
//   GPC_FAKE_LOG=FILE       append "<name> seed=<n> duration=<d>" per invocation
//   GPC_FAKE_UNSAFE=S       report unsafe_violations = 2 (also outside hook=end)
//   GPC_FAKE_NO_SCENARIO=X  behave like a gpcbench without scenario X (exit 2, also for --help)
// `run SCENARIO --help` lists every contract flag, as a real scenario's help would.
// hook=end with an invalidator on the cache page (not --target unrelated) reports
// unsafe_violations = 3, the "unsafe by design" finding.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "results/result_file.hpp"

namespace {

bool knob_matches(const char* var, const std::string& name) {
  const char* v = std::getenv(var);
  if (!v || !*v) return false;
  return std::string(v) == "*" || name.find(v) != std::string::npos;
}

double duration_seconds(const std::string& d) {
  const double n = std::atof(d.c_str());
  if (d.ends_with("ms")) return n / 1e3;
  if (d.ends_with("us")) return n / 1e6;
  if (d.ends_with("ns")) return n / 1e9;
  if (d.ends_with("m")) return n * 60;
  return n;
}

// Synthetic cost model: blocking is slow to wake but cheap, spinning the reverse.
struct Model {
  double latency_ns, cpu_ns, corunner;
};

Model model_for(const std::map<std::string, std::string>& p) {
  Model m{1000, 900, 1.0};
  auto get = [&](const char* k) { auto it = p.find(k); return it == p.end() ? std::string() : it->second; };
  const std::string s = get("strategy");
  if (s == "busy") m = {2000, 1900, 0.55};
  else if (s == "spin") m = {1500, 1450, 0.50};
  else if (s == "haltpoll") m = {1800, 700, 0.80};
  else if (s == "block") m = {4000, 250, 0.97};
  if (get("hook") == "end") m.latency_ns *= 0.9;
  if (!get("invalidator").empty()) m.latency_ns *= 3;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || std::string(argv[1]) != "run") {
    std::fprintf(stderr, "fake runner: usage: %s run SCENARIO [--flag [value]]...\n", argv[0]);
    return 2;
  }
  const std::string scenario = argv[2];
  if (const char* absent = std::getenv("GPC_FAKE_NO_SCENARIO"); absent && scenario == absent) {
    std::fprintf(stderr, "fake runner: The following argument was not expected: %s\n", scenario.c_str());
    return 2;
  }
  if (argc == 4 && std::string(argv[3]) == "--help") {
    std::printf("Usage: fake run %s [OPTIONS]\n  --duration --seed --json --quiet --strategy --hook --filter --check --invalidator "
                "--target --rate --hold --writers --co-runner --overcommit --vcpus --range-size --bug --reader\n",
                scenario.c_str());
    return 0;
  }
  std::map<std::string, std::string> params;
  std::vector<std::string> axis_order;
  std::string json_path, duration = "3s";
  uint64_t seed = 1;
  for (int i = 3; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag.rfind("--", 0) != 0) {
      std::fprintf(stderr, "fake runner: unexpected argument '%s'\n", argv[i]);
      return 2;
    }
    flag = flag.substr(2);
    const bool has_value = i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0;
    const std::string value = has_value ? argv[++i] : "on";
    if (flag == "json") json_path = value;
    else if (flag == "duration") duration = value;
    else if (flag == "seed") seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "quiet") continue;
    else {
      params[flag] = value;
      axis_order.push_back(flag);
    }
  }
  std::string name = scenario;
  for (const auto& a : axis_order) name += "/" + a + ":" + params[a];

  if (const char* log = std::getenv("GPC_FAKE_LOG"))
    std::ofstream(log, std::ios::app) << name << " seed=" << seed << " duration=" << duration << "\n";
  if (knob_matches("GPC_FAKE_UNAVAILABLE", name)) {
    std::fprintf(stderr, "fake runner: cannot run %s here: /dev/kvm is missing\n", name.c_str());
    return 2;
  }
  if (knob_matches("GPC_FAKE_HANG", name)) {
    std::fprintf(stderr, "fake runner: hanging in %s\n", name.c_str());
    std::this_thread::sleep_for(std::chrono::hours(1));
  }
  if (knob_matches("GPC_FAKE_CRASH", name)) return 3;
  std::this_thread::sleep_for(std::chrono::duration<double>(std::min(duration_seconds(duration), 0.5)));

  std::mt19937_64 rng(seed * 7919 + std::hash<std::string>{}(name));
  const Model m = model_for(params);
  std::lognormal_distribution<double> run_noise(0.0, 0.03), sample(0.0, 0.35);
  const double run_factor = run_noise(rng);

  gpc::BenchmarkRecord rec;
  rec.name = name;
  gpc::Histogram h;
  for (int i = 0; i < 4000; ++i) h.record(static_cast<uint64_t>(m.latency_ns * run_factor * sample(rng)));
  rec.iterations = static_cast<int64_t>(h.count());
  rec.real_time_ns = h.mean();
  rec.cpu_time_ns = m.cpu_ns * run_factor;
  gpc::add_latency_counters(rec, h);
  rec.counters["ops_per_s"] = 1e9 / rec.real_time_ns;
  rec.counters["cpu_ns_per_op"] = rec.cpu_time_ns;
  rec.counters["retries_per_op"] = 0.2 * run_factor;
  rec.counters["hva_to_pfn_per_op"] = 1.2 * run_factor;
  rec.counters["context_switches_per_op"] = params["strategy"] == "block" ? 1.0 : 0.01;
  if (params.count("co-runner")) rec.counters["corunner_progress"] = std::min(1.0, m.corunner * run_factor);
  if (params.count("invalidator")) rec.counters["inval_ops"] = 5000 * run_factor;
  const bool violation = knob_matches("GPC_FAKE_VIOLATION", name);
  rec.counters["violations"] = violation ? 1 : 0;
  if (params["hook"] == "end" && params.count("invalidator") && params["target"] != "unrelated")
    rec.counters["unsafe_violations"] = 3;
  if (knob_matches("GPC_FAKE_UNSAFE", name)) rec.counters["unsafe_violations"] = 2;
  rec.histograms["latency"] = h;

  gpc::ResultFile result;
  result.context = {{"host_name", "fake-host"}, {"kernel", {{"release", "6.18.0-fake"}}}};
  result.context["run"] = {{"scenario", scenario}};
  for (const auto& [k, v] : params) result.context["run"][k] = v;
  result.benchmarks.push_back(rec);
  if (!json_path.empty()) gpc::write_result_file(json_path, result);
  return violation ? 1 : 0;
}
