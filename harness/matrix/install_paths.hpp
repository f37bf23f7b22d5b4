// Where gpcbench finds its data files: the matrix presets and the Python report/compare
// code. First next to the binary (build/share/gpcbench/..., copied there by CMake), then the
// source tree the binary was built from.
#pragma once

#include <filesystem>
#include <string>

namespace gpc::matrix {

std::filesystem::path self_executable();  // /proc/self/exe resolved
std::filesystem::path presets_dir();      // holds quick.toml, full.toml
std::filesystem::path report_code_dir();  // holds gpc_report.py, gpc_compare.py

// "quick" / "full" -> the preset file; anything else is taken as a path. Throws UsageError
// naming the known presets when neither exists.
std::filesystem::path resolve_preset(const std::string& name_or_path);

}  // namespace gpc::matrix
