#include "matrix/manifest.hpp"

#include <fstream>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void require(bool ok, const fs::path& file, const std::string& what) {
  if (!ok)
    throw UsageError(file.string() + " is unreadable: " + what +
                     "; it was edited or is not from gpcbench: use a new --out directory (or restore the file)");
}

}  // namespace

json read_manifest(const fs::path& dir) {
  const fs::path file = dir / "matrix.json";
  std::error_code ec;
  const auto st = fs::status(file, ec);
  if (!fs::exists(st))
    throw UsageError(dir.string() + " has no matrix.json: is it a `gpcbench matrix --out` directory?");
  require(fs::is_regular_file(st), file, "not a regular file");
  std::ifstream in(file);
  json j = json::parse(in, nullptr, false);
  require(!j.is_discarded() && j.is_object(), file, "invalid or truncated JSON");
  require(j.contains("fingerprint") && j["fingerprint"].is_string(), file, "'fingerprint' must be a string");
  require(!j.contains("repetitions") || j["repetitions"].is_number_integer(), file, "'repetitions' must be an integer");
  for (const char* k : {"order", "cells"})
    require(!j.contains(k) || j[k].is_array(), file, std::string("'") + k + "' must be an array");
  if (j.contains("shard")) {
    const json& s = j["shard"];
    require(s.is_object() && s.value("index", json()).is_number_integer() &&
                s.value("total", json()).is_number_integer(),
            file, "'shard' must be {\"index\": integer, \"total\": integer}");
  }
  return j;
}

}  // namespace gpc::matrix
