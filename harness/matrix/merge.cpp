#include "matrix/merge.hpp"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"
#include "matrix/json_file.hpp"
#include "matrix/manifest.hpp"
#include "matrix/out_dir.hpp"

namespace gpc::matrix {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ShardDir {
  fs::path dir;
  json manifest;
  json environment;  // null when the shard has no environment.json
};

std::string shard_label(const json& m) {
  return std::to_string(m["shard"].value("index", 0)) + "/" + std::to_string(m["shard"].value("total", 1));
}

// Reads every shard and refuses a directory or a shard index given twice, and other matrices.
std::vector<ShardDir> read_shards(const std::vector<fs::path>& dirs, const fs::path& out) {
  std::vector<ShardDir> shards;
  std::map<std::string, fs::path> by_index;
  for (const auto& dir : dirs) {
    if (!fs::is_directory(dir)) throw UsageError("--merge " + dir.string() + ": not a directory (give shard directories)");
    for (const auto& s : shards)
      if (fs::equivalent(s.dir, dir))
        throw UsageError("--merge lists " + dir.string() + " twice (as " + s.dir.string() + "); give each shard once");
    if (fs::exists(out) && fs::equivalent(dir, out))
      throw UsageError("--out must be a new directory, not one of the shards (" + dir.string() + ")");
    ShardDir s{dir, read_manifest(dir), nullptr};
    if (!s.manifest.contains("shard")) s.manifest["shard"] = {{"index", 0}, {"total", 1}};
    if (!shards.empty() && s.manifest["fingerprint"] != shards.front().manifest["fingerprint"])
      throw UsageError(dir.string() + " was produced by a different matrix (fingerprint " +
                       s.manifest["fingerprint"].get<std::string>() + " vs " +
                       shards.front().manifest["fingerprint"].get<std::string>() + "); merge only shards of one matrix");
    const auto [it, fresh] = by_index.emplace(shard_label(s.manifest), dir);
    if (!fresh)
      throw UsageError(dir.string() + " and " + it->second.string() + " are both shard " + it->first +
                       ": the same part of the matrix twice; merge one of them");
    if (fs::is_regular_file(dir / "environment.json")) {
      std::ifstream in(dir / "environment.json");
      s.environment = json::parse(in, nullptr, false);
      if (s.environment.is_discarded())
        throw UsageError((dir / "environment.json").string() + " is unreadable or truncated");
    }
    shards.push_back(std::move(s));
  }
  return shards;
}

// Compares each shard's environment with the first shard's (docs/matrix-format.md).
std::vector<EnvDifference> check_environments(const std::vector<ShardDir>& shards, bool allow_mixed) {
  std::vector<EnvDifference> all;
  const ShardDir& first = shards.front();
  for (size_t i = 1; i < shards.size(); ++i) {
    std::vector<EnvDifference> diffs;
    if (first.environment.is_null() != shards[i].environment.is_null())
      diffs.push_back({"environment.json", first.environment.is_null() ? "missing" : "present",
                       shards[i].environment.is_null() ? "missing" : "present"});
    else
      diffs = environment_differences(first.environment, shards[i].environment);
    for (auto& d : diffs) {
      if (!allow_mixed)
        throw UsageError("shards ran in different environments: " + d.field + " is " + d.a + " in " +
                         first.dir.string() + " but " + d.b + " in " + shards[i].dir.string() +
                         "; their numbers are not comparable (docs/regress-check.md, running on a lab). Run the "
                         "matrix on one machine kind, or pass --allow-mixed to merge anyway (the report says so)");
      d.a = first.dir.string() + ": " + d.a;
      d.b = shards[i].dir.string() + ": " + d.b;
      all.push_back(std::move(d));
    }
  }
  return all;
}

// Copies the *.json (and *.log) files of `from` into `to`. Two different files of one name:
// an error for results (the same run measured twice), a second name for everything else.
int copy_dir_files(const fs::path& from, const fs::path& to, bool conflict_is_error, int shard) {
  if (!fs::is_directory(from)) return 0;
  fs::create_directories(to);
  int n = 0;
  for (const auto& e : fs::directory_iterator(from)) {
    if (!e.is_regular_file()) continue;
    fs::path dst = to / e.path().filename();
    if (fs::exists(dst)) {
      if (file_text(dst) == file_text(e.path())) continue;
      if (conflict_is_error)
        throw UsageError(e.path().string() + " and " + dst.string() +
                         " are different results of the same run: were two shards given the same "
                         "GPCBENCH_SHARD_INDEX? Merge only one of them.");
      dst = to / (e.path().stem().string() + ".shard" + std::to_string(shard) + e.path().extension().string());
    }
    fs::copy_file(e.path(), dst);
    ++n;
  }
  return n;
}

int count_bad_failure_records(const fs::path& dir) {
  int n = 0;
  if (!fs::is_directory(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path());
    const json j = json::parse(in, nullptr, false);
    const std::string status = j.is_object() ? j.value("status", std::string()) : std::string();
    n += status == "violation" || status == "failed" || status == "timeout";
  }
  return n;
}

void copy_shards(const std::vector<ShardDir>& shards, const fs::path& out, MergeSummary& summary) {
  fs::create_directories(out / "environments");
  for (size_t i = 0; i < shards.size(); ++i) {
    const fs::path& dir = shards[i].dir;
    const int tag = static_cast<int>(i);
    summary.results += copy_dir_files(dir / "runs", out / "runs", true, tag);
    // Every failure record is kept: a violation has both a result and a record.
    summary.failures += copy_dir_files(dir / "failures", out / "failures", false, tag);
    copy_dir_files(dir / "logs", out / "logs", false, tag);
    if (fs::exists(dir / "environment.json")) {
      fs::copy_file(dir / "environment.json", out / "environments" / ("shard-" + std::to_string(i) + ".json"));
      if (!fs::exists(out / "environment.json")) fs::copy_file(dir / "environment.json", out / "environment.json");
    }
    if (!fs::exists(out / "matrix.toml") && fs::exists(dir / "matrix.toml"))
      fs::copy_file(dir / "matrix.toml", out / "matrix.toml");
  }
  summary.violations = count_bad_failure_records(out / "failures");
}

json merged_manifest(const std::vector<ShardDir>& shards, const MergeSummary& summary) {
  json merged = shards.front().manifest;
  merged["order"] = json::array();
  json sources = json::array();
  for (const auto& s : shards) {
    merged["repetitions"] = std::max(merged.value("repetitions", 0), s.manifest.value("repetitions", 0));
    for (const auto& o : s.manifest.value("order", json::array())) merged["order"].push_back(o);
    sources.push_back({{"dir", fs::absolute(s.dir).string()}, {"shard", s.manifest["shard"]}});
  }
  merged["shard"] = {{"index", 0}, {"total", 1}, {"source", "merged"}};
  merged["merged_from"] = sources;
  if (!summary.mixed.empty()) {
    json mixed = json::array();
    for (const auto& d : summary.mixed) mixed.push_back({{"field", d.field}, {"first", d.a}, {"other", d.b}});
    merged["mixed_environment"] = mixed;  // gpc_report.py puts a banner at the top
  }
  return merged;
}

}  // namespace

MergeSummary merge_shards(const std::vector<fs::path>& dirs, const fs::path& out, const MergeOptions& options) {
  if (dirs.empty()) throw UsageError("--merge needs at least one shard directory");
  check_out_dir(out, OutPurpose::kMerge);
  const auto shards = read_shards(dirs, out);
  MergeSummary summary;
  summary.shards = static_cast<int>(shards.size());
  summary.mixed = check_environments(shards, options.allow_mixed);
  const bool existed = fs::exists(out);
  create_out_dir(out);
  try {
    copy_shards(shards, out, summary);
    write_json_file(out / "matrix.json", merged_manifest(shards, summary));
  } catch (...) {
    // Nothing half-merged is left behind: the directory was new or empty.
    std::error_code ec;
    if (existed) {
      for (const auto& e : fs::directory_iterator(out, ec)) fs::remove_all(e.path(), ec);
    } else {
      fs::remove_all(out, ec);
    }
    throw;
  }
  return summary;
}

}  // namespace gpc::matrix
