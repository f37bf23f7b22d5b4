// Writing a matrix's files (manifest, status, per-run results, merged manifest, matrix.toml):
// to a temporary file in the same directory first, then renamed, so a crash or Ctrl-C never
// leaves a half-written file that a resume or a report would read, and a failed write (a full
// disk) leaves no temporary file behind.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace gpc::matrix {

// Throws UnavailableError naming the file and the likely fix when it cannot be written, and
// UsageError when `path` exists and is not a regular file (a device, FIFO, directory or
// symlink is never replaced; checked before writing and again just before the rename).
void write_json_file(const std::filesystem::path& path, const nlohmann::json& j);
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace gpc::matrix
