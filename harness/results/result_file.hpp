// Result files in Google Benchmark's JSON schema (BRIEF §5): a `context` object and a
// `benchmarks` array, so Google Benchmark's tools/compare.py reads them unchanged.
// gpcbench's extras: environment fields in `context`, metrics as per-benchmark counters,
// latency histograms under context["gpcbench_histograms"][benchmark name].
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/histogram.hpp"

namespace gpc {

// One measured run of one cell: a Google Benchmark "iteration" entry.
struct BenchmarkRecord {
  std::string name;            // e.g. "cache/strategy:block/hook:end/invalidator:mremap"
  int64_t iterations = 0;      // operations measured (refreshes, updates, events)
  double real_time_ns = 0;     // mean wall time per operation
  double cpu_time_ns = 0;      // mean CPU time per operation
  int repetitions = 1;
  int repetition_index = 0;
  int threads = 1;
  std::string label;           // free text Google Benchmark shows beside the row
  std::map<std::string, double> counters;       // p50_ns, p99_ns, retries, violations, ...
  std::map<std::string, Histogram> histograms;  // serialized into context, keyed by name
};

struct ResultFile {
  nlohmann::json context = nlohmann::json::object();  // environment capture + run parameters
  std::vector<BenchmarkRecord> benchmarks;
};

// Serializes to the Google Benchmark schema.
nlohmann::json to_json(const ResultFile& result);
// Parses the schema back. Throws UnavailableError naming the file and the problem
// (unreadable, truncated JSON, missing `benchmarks`), never crashes on bad input.
ResultFile from_json(const nlohmann::json& j, const std::string& origin);

void write_result_file(const std::filesystem::path& path, const ResultFile& result);
ResultFile read_result_file(const std::filesystem::path& path);

// Standard latency counters from a histogram: p50/p90/p99/p999/max (and mean) in ns,
// named `<prefix>p50_ns` and so on.
void add_latency_counters(BenchmarkRecord& record, const Histogram& h, const std::string& prefix = "");

}  // namespace gpc
