#include "matrix/out_dir.hpp"

#include <unistd.h>

#include <cstring>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const fs::path& dir, const std::string& why, const std::string& fix) {
  throw UsageError("--out " + dir.string() + ": " + why + "; " + fix);
}

// stat() that reports a symlink loop or an unreadable path instead of throwing.
fs::file_status status_of(const fs::path& p) {
  std::error_code ec;
  const auto st = fs::status(p, ec);
  // ENOTDIR: a parent is a file; check_creatable() names it.
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    refuse(p, ec.message() + (ec == std::errc::too_many_symbolic_link_levels ? " (a symlink loop)" : ""),
           "point --out at a real directory");
  return st;
}

// The nearest existing ancestor must be a directory we can write into.
void check_creatable(const fs::path& dir) {
  fs::path parent = fs::absolute(dir).parent_path();
  while (!parent.empty() && !fs::exists(status_of(parent)) && parent != parent.root_path())
    parent = parent.parent_path();
  if (!fs::is_directory(status_of(parent)))
    refuse(dir, parent.string() + " is not a directory", "choose a path under a directory");
  if (access(parent.c_str(), W_OK | X_OK) != 0)
    refuse(dir, "cannot create it in " + parent.string() + ": " + std::strerror(errno),
           "choose a directory you can write to");
}

bool is_empty_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

// Empty, or only the empty subdirectories a matrix creates before its manifest (a run
// killed at that moment is resumed, not refused).
bool holds_nothing(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const bool ours = name == "runs" || name == "failures" || name == "logs" || name == "tmp";
    if (!ours || !e.is_directory(ec) || e.is_symlink(ec) || !is_empty_dir(e.path())) return false;
  }
  return true;
}

}  // namespace

void check_out_dir(const fs::path& dir, OutPurpose purpose) {
  if (dir.empty()) throw UsageError("--out is empty; give the directory for the results, e.g. --out results/runs/quick-1");
  const auto st = status_of(dir);
  if (!fs::exists(st)) return check_creatable(dir);
  if (!fs::is_directory(st))
    refuse(dir, "exists and is not a directory", "choose a new directory name (the matrix writes several files)");
  if (access(dir.c_str(), W_OK | X_OK) != 0)
    refuse(dir, std::string("cannot write into it: ") + std::strerror(errno), "choose a directory you can write to");
  if (holds_nothing(dir)) return;
  const bool is_matrix_dir = fs::exists(status_of(dir / "matrix.json"));
  if (purpose == OutPurpose::kMerge)
    refuse(dir, is_matrix_dir ? "is already a matrix directory" : "is not empty",
           "--merge writes a new directory: choose a new or empty --out");
  if (!is_matrix_dir)
    refuse(dir, "holds files but no matrix.json, so it is not a matrix directory",
           "choose a new or empty directory (the matrix would mix its files with these)");
  for (const char* sub : {"runs", "failures", "logs", "tmp"}) {
    const auto sst = status_of(dir / sub);
    if (fs::exists(sst) && !fs::is_directory(sst))
      refuse(dir, std::string(sub) + " in it is not a directory", "remove or rename " + (dir / sub).string() +
                                                                        ", or use a new --out directory");
  }
}

void create_out_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) refuse(dir, "cannot create it: " + ec.message(), "choose a directory you can write to");
}

}  // namespace gpc::matrix
