#include "matrix/merge.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"
#include "matrix/json_file.hpp"

namespace gpc::matrix {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_manifest(const fs::path& dir) {
  std::ifstream in(dir / "matrix.json");
  if (!in) throw UsageError(dir.string() + " has no matrix.json: is it a `gpcbench matrix --out` directory?");
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("fingerprint"))
    throw UsageError((dir / "matrix.json").string() + " is unreadable or truncated");
  return j;
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Copies the *.json files of `sub`; returns how many were new.
int copy_dir_files(const fs::path& from, const fs::path& to, bool conflict_is_error) {
  if (!fs::is_directory(from)) return 0;
  fs::create_directories(to);
  int n = 0;
  for (const auto& e : fs::directory_iterator(from)) {
    if (!e.is_regular_file()) continue;
    const fs::path dst = to / e.path().filename();
    if (fs::exists(dst)) {
      if (conflict_is_error && file_text(dst) != file_text(e.path()))
        throw UsageError(e.path().string() + " and " + dst.string() +
                         " are different results of the same run: were two shards given the same "
                         "GPCBENCH_SHARD_INDEX? Merge only one of them.");
      continue;
    }
    fs::copy_file(e.path(), dst);
    ++n;
  }
  return n;
}


}  // namespace

MergeSummary merge_shards(const std::vector<fs::path>& shards, const fs::path& out) {
  if (shards.empty()) throw UsageError("--merge needs at least one shard directory");
  MergeSummary summary;
  json merged;
  json sources = json::array();
  for (const auto& dir : shards) {
    if (fs::exists(out) && fs::equivalent(dir, out)) throw UsageError("--out must be a new directory, not one of the shards (" + dir.string() + ")");
    json m = read_manifest(dir);
    if (merged.is_null()) {
      merged = m;
      merged["order"] = json::array();
    } else if (m["fingerprint"] != merged["fingerprint"]) {
      throw UsageError(dir.string() + " was produced by a different matrix (fingerprint " +
                       m["fingerprint"].get<std::string>() + " vs " + merged["fingerprint"].get<std::string>() +
                       "); merge only shards of one matrix");
    }
    merged["repetitions"] = std::max(merged["repetitions"].get<int>(), m["repetitions"].get<int>());
    for (const auto& o : m["order"]) merged["order"].push_back(o);
    sources.push_back({{"dir", fs::absolute(dir).string()}, {"shard", m["shard"]}});
    ++summary.shards;
  }
  fs::create_directories(out);
  for (size_t i = 0; i < shards.size(); ++i) {
    summary.results += copy_dir_files(shards[i] / "runs", out / "runs", true);
    copy_dir_files(shards[i] / "logs", out / "logs", false);
    fs::create_directories(out / "environments");
    if (fs::exists(shards[i] / "environment.json")) {
      fs::copy_file(shards[i] / "environment.json", out / "environments" / ("shard-" + std::to_string(i) + ".json"),
                    fs::copy_options::overwrite_existing);
      if (!fs::exists(out / "environment.json")) fs::copy_file(shards[i] / "environment.json", out / "environment.json");
    }
    if (!fs::exists(out / "matrix.toml") && fs::exists(shards[i] / "matrix.toml"))
      fs::copy_file(shards[i] / "matrix.toml", out / "matrix.toml");
  }
  // A failure record only matters if no shard finished that run.
  for (const auto& dir : shards) {
    if (!fs::is_directory(dir / "failures")) continue;
    fs::create_directories(out / "failures");
    for (const auto& e : fs::directory_iterator(dir / "failures")) {
      if (fs::exists(out / "runs" / e.path().filename()) || fs::exists(out / "failures" / e.path().filename())) continue;
      fs::copy_file(e.path(), out / "failures" / e.path().filename());
      ++summary.failures;
    }
  }
  merged["shard"] = {{"index", 0}, {"total", 1}};
  merged["merged_from"] = sources;
  write_json_file(out / "matrix.json", merged);
  return summary;
}

}  // namespace gpc::matrix
