#include "matrix/install_paths.hpp"

#include "common/errors.hpp"

namespace gpc::matrix {
namespace fs = std::filesystem;

namespace {

fs::path first_existing(const fs::path& installed, const fs::path& source, const char* probe) {
  if (fs::exists(installed / probe)) return installed;
  if (fs::exists(source / probe)) return source;
  throw UnavailableError(std::string("cannot find gpcbench's ") + probe + " in " + installed.string() + " or " +
                         source.string() + "; rebuild gpcbench (cmake --build) so CMake copies its data files");
}

}  // namespace

fs::path self_executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw UnavailableError("cannot resolve /proc/self/exe (" + ec.message() + "); is /proc mounted?");
  return p;
}

fs::path presets_dir() {
  return first_existing(self_executable().parent_path() / "share" / "gpcbench" / "presets",
                        fs::path(GPC_SOURCE_DIR) / "results" / "presets", "quick.toml");
}

fs::path report_code_dir() {
  return first_existing(self_executable().parent_path() / "share" / "gpcbench" / "report",
                        fs::path(GPC_SOURCE_DIR) / "results" / "report", "gpc_report.py");
}

fs::path resolve_preset(const std::string& name_or_path) {
  if (name_or_path.find('/') == std::string::npos && name_or_path.find('.') == std::string::npos) {
    const fs::path p = presets_dir() / (name_or_path + ".toml");
    if (fs::exists(p)) return p;
    throw UsageError("unknown preset '" + name_or_path + "'; expected quick, full, or the path of a matrix file");
  }
  std::error_code ec;
  const auto st = fs::status(name_or_path, ec);
  if (!fs::exists(st))
    throw UsageError("matrix file '" + name_or_path + "' does not exist; expected quick, full, or an existing path");
  if (fs::is_directory(st))
    throw UsageError("--preset " + name_or_path + " is a directory; give a matrix file (.toml) or quick|full");
  if (fs::is_character_file(st) || fs::is_block_file(st) || fs::is_socket(st))
    throw UsageError("--preset " + name_or_path + " is not a regular file; give a matrix file (.toml) or quick|full");
  return name_or_path;
}

}  // namespace gpc::matrix
