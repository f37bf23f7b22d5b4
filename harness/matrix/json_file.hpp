// Writing a matrix's JSON files (manifest, status, per-run results, merged manifest): to a
// temporary name first, then renamed, so a crash or Ctrl-C never leaves a half-written file
// that a resume or a report would read.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace gpc::matrix {

// Throws UnavailableError naming the file and the likely fix when it cannot be written.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& j);

}  // namespace gpc::matrix
