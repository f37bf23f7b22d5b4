#include "results/result_file.hpp"

#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "results/output_file.hpp"

namespace gpc {
namespace {

constexpr const char* kHistogramKey = "gpcbench_histograms";

nlohmann::json histogram_to_json(const Histogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& [upper, n] : h.nonzero()) buckets.push_back({upper, n});
  return {{"unit", "ns"}, {"count", h.count()}, {"min", h.min()}, {"max", h.max()},
          {"buckets", buckets}};
}

Histogram histogram_from_json(const nlohmann::json& j) {
  Histogram h;
  for (const auto& b : j.at("buckets")) {
    const auto upper = b.at(0).get<uint64_t>();
    h.add_bucket(gpc_ll_bucket(upper), b.at(1).get<uint64_t>());
  }
  return h;
}

const std::set<std::string>& standard_fields() {
  static const std::set<std::string> fields = {
      "name", "family_index", "per_family_instance_index", "run_name", "run_type",
      "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
      "time_unit", "label", "aggregate_name", "aggregate_unit", "error_occurred",
      "error_message"};
  return fields;
}

}  // namespace

nlohmann::json to_json(const ResultFile& result) {
  nlohmann::json j;
  j["context"] = result.context;
  nlohmann::json histograms = nlohmann::json::object();
  nlohmann::json benchmarks = nlohmann::json::array();
  std::map<std::string, int> family_of;
  for (const auto& r : result.benchmarks) {
    // Families are the name up to the repetition: cells with one name share one family.
    auto [it, inserted] = family_of.emplace(r.name, static_cast<int>(family_of.size()));
    nlohmann::json b;
    b["name"] = r.name;
    b["family_index"] = it->second;
    b["per_family_instance_index"] = 0;
    b["run_name"] = r.name;
    b["run_type"] = "iteration";
    b["repetitions"] = r.repetitions;
    b["repetition_index"] = r.repetition_index;
    b["threads"] = r.threads;
    b["iterations"] = r.iterations;
    b["real_time"] = r.real_time_ns;
    b["cpu_time"] = r.cpu_time_ns;
    b["time_unit"] = "ns";
    if (!r.label.empty()) b["label"] = r.label;
    for (const auto& [k, v] : r.counters) b[k] = v;
    benchmarks.push_back(std::move(b));
    if (!r.histograms.empty()) {
      auto& hs = histograms[r.name + "#" + std::to_string(r.repetition_index)];
      for (const auto& [hname, h] : r.histograms) hs[hname] = histogram_to_json(h);
    }
  }
  if (!histograms.empty()) j["context"][kHistogramKey] = histograms;
  j["benchmarks"] = benchmarks;
  return j;
}

ResultFile from_json(const nlohmann::json& j, const std::string& origin) {
  auto fail = [&](const std::string& why) {
    throw UnavailableError(origin + ": not a gpcbench/Google Benchmark result file: " + why);
  };
  if (!j.is_object()) fail("the top level is not a JSON object");
  if (!j.contains("benchmarks") || !j["benchmarks"].is_array()) fail("no 'benchmarks' array");
  ResultFile out;
  out.context = j.value("context", nlohmann::json::object());
  const nlohmann::json histograms = out.context.value(kHistogramKey, nlohmann::json::object());
  out.context.erase(kHistogramKey);
  try {
    for (const auto& b : j["benchmarks"]) {
      if (b.value("run_type", "iteration") != "iteration") continue;  // skip aggregates
      BenchmarkRecord r;
      r.name = b.at("name").get<std::string>();
      r.iterations = b.value("iterations", int64_t{0});
      r.real_time_ns = b.at("real_time").get<double>();
      r.cpu_time_ns = b.at("cpu_time").get<double>();
      const std::string unit = b.value("time_unit", "ns");
      const double scale = unit == "ns" ? 1 : unit == "us" ? 1e3 : unit == "ms" ? 1e6 : 1e9;
      r.real_time_ns *= scale;
      r.cpu_time_ns *= scale;
      r.repetitions = b.value("repetitions", 1);
      r.repetition_index = b.value("repetition_index", 0);
      r.threads = b.value("threads", 1);
      r.label = b.value("label", "");
      for (const auto& [k, v] : b.items())
        if (!standard_fields().count(k) && v.is_number()) r.counters[k] = v.get<double>();
      const std::string hkey = r.name + "#" + std::to_string(r.repetition_index);
      if (histograms.contains(hkey))
        for (const auto& [hname, hj] : histograms[hkey].items())
          r.histograms[hname] = histogram_from_json(hj);
      out.benchmarks.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("malformed benchmark entry (") + e.what() + ")");
  }
  return out;
}

void write_result_file(const std::filesystem::path& path, const ResultFile& result) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  // Temporary file, fsync, rename (output_file.hpp): a crash, Ctrl-C or full disk never
  // leaves half a file, and only a regular file is ever replaced.
  write_output_file(path, to_json(result).dump(2) + "\n");
}

ResultFile read_result_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw UnavailableError(path.string() + ": cannot open (does it exist and is it readable?)");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw UnavailableError(path.string() + ": invalid or truncated JSON at byte " +
                           std::to_string(e.byte) + " (was the run interrupted?)");
  }
  return from_json(j, path.string());
}

void add_latency_counters(BenchmarkRecord& record, const Histogram& h, const std::string& prefix) {
  record.counters[prefix + "p50_ns"] = static_cast<double>(h.quantile(0.50));
  record.counters[prefix + "p90_ns"] = static_cast<double>(h.quantile(0.90));
  record.counters[prefix + "p99_ns"] = static_cast<double>(h.quantile(0.99));
  record.counters[prefix + "p999_ns"] = static_cast<double>(h.quantile(0.999));
  record.counters[prefix + "max_ns"] = static_cast<double>(h.max());
  record.counters[prefix + "mean_ns"] = h.mean();
}

}  // namespace gpc
