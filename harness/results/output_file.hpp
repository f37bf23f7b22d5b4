// Output files the tool writes (run --json, calibrate's result files): checked before a
// run, written so that nothing is clobbered and nothing partial is left (issue 15, items 1
// and 2). A result goes to a temporary file in the target's directory, is fsync'ed, and
// is renamed into place; only a regular file (or nothing) is ever replaced.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace gpc {

// Refuses, with UsageError naming `flag` and the fix, an output path that could not take
// a result: empty; under /dev, /proc or /sys; a directory, device, FIFO or socket; a
// symlink that does not resolve; a parent directory that is missing or not writable.
// Call it before a run, so a bad path costs nothing.
void check_output_path(const std::filesystem::path& path, std::string_view flag);

// Writes `text` to `path` atomically: temporary file in the same directory, fsync,
// rename. A symlink is followed (its target is replaced, not the link). Refuses to
// replace anything that is not a regular file, re-checked just before the rename.
// Throws UnavailableError naming the file and the cause on any error (ENOSPC, EFBIG,
// EACCES, ...) after removing the temporary file.
void write_output_file(const std::filesystem::path& path, std::string_view text);

// What kind of file `st_mode` says this is ("a directory", "a character device", ...).
std::string file_kind_text(unsigned mode);

}  // namespace gpc
