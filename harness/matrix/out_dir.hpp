// Checking a matrix's --out directory before anything is written into it, so a wrong path
// is a usage error with the fix (exit 2), never a raw filesystem error after the runs.
#pragma once

#include <filesystem>

namespace gpc::matrix {

enum class OutPurpose {
  kRun,    // `matrix --out`: new, empty, or a matrix directory to resume
  kMerge,  // `matrix --merge ... --out`: new or empty
};

// Throws UsageError for: an empty path; a path that is not a directory (a file, a device, a
// symlink loop); a directory that holds files but no matrix.json (kRun) or any file (kMerge);
// a matrix directory whose runs/, failures/, logs/ or tmp/ is not a directory; a parent that
// is not a directory or cannot be written. Creates nothing.
void check_out_dir(const std::filesystem::path& dir, OutPurpose purpose);

// Creates `dir` and its parents, turning a filesystem error into a UsageError naming the fix.
void create_out_dir(const std::filesystem::path& dir);

}  // namespace gpc::matrix
