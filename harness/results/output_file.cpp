#include "results/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string>

#include "common/errors.hpp"

namespace gpc {
namespace fs = std::filesystem;
namespace {

// Kernel and device trees: a result never belongs there, and replacing a node there
// breaks the machine for everyone (issue 15 item 1: /dev/full became a regular file).
bool under_system_tree(const fs::path& absolute) {
  for (const char* root : {"/dev", "/proc", "/sys"}) {
    const fs::path r(root);
    auto it = absolute.begin();
    bool inside = true;
    for (auto rit = r.begin(); rit != r.end(); ++rit, ++it)
      if (it == absolute.end() || *it != *rit) { inside = false; break; }
    if (inside) return true;
  }
  return false;
}

// The file a write lands in: a symlink's target (resolved), else the path made absolute.
// Throws UsageError for a symlink that does not resolve (dangling, loop).
fs::path resolved_target(const fs::path& path, std::string_view flag) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec).lexically_normal();
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return absolute;
  const fs::path target = fs::canonical(path, ec);
  if (ec)
    throw UsageError(std::string(flag) + " " + path.string() + ": a symlink that does not resolve (" +
                     ec.message() + "); give a plain file name");
  return target;
}

[[noreturn]] void refuse(std::string_view flag, const fs::path& path, const std::string& why,
                         const std::string& fix) {
  throw UsageError(std::string(flag) + " " + path.string() + ": " + why + "; " + fix);
}

void check_parent_dir(const fs::path& path, const fs::path& parent, std::string_view flag) {
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0)
    refuse(flag, path, "its directory " + parent.string() + " does not exist (" + errno_text(errno) + ")",
           "create it first (mkdir -p " + parent.string() + ") or choose another path");
  if (!S_ISDIR(st.st_mode))
    refuse(flag, path, parent.string() + " is " + file_kind_text(st.st_mode) + ", not a directory",
           "choose a path inside a directory");
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    refuse(flag, path, "its directory " + parent.string() + " is not writable (" + errno_text(errno) + ")",
           "choose a directory you can write to");
}

std::atomic<unsigned> temp_counter{0};

// Writes all of `text` to `fd`; returns 0 or the errno of the failed write.
int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// Moves `tmp` onto `target` unless `target` is anything but a regular file. When nothing
// is there, RENAME_NOREPLACE keeps a node created meanwhile from being replaced.
int rename_into_place(const fs::path& tmp, const fs::path& target, std::string& why) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      why = target.string() + " is now " + file_kind_text(st.st_mode) + ", which gpcbench never replaces";
      return EEXIST;
    }
    return ::rename(tmp.c_str(), target.c_str()) == 0 ? 0 : errno;
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;  // EINVAL: the filesystem lacks the flag
  return ::rename(tmp.c_str(), target.c_str()) == 0 ? 0 : errno;
}

}  // namespace

std::string file_kind_text(unsigned mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a regular file";
}

void check_output_path(const fs::path& path, std::string_view flag) {
  if (path.empty())
    throw UsageError(std::string(flag) + " was given an empty file name; name a file (e.g. " +
                     std::string(flag) + " result.json) or leave the flag out");
  // Both the path as given and where it leads: /proc/self/fd/1 leads out of /proc.
  const auto refuse_system_tree = [&] {
    refuse(flag, path, "is under /dev, /proc or /sys, where gpcbench never writes",
           "write the result to a file in a regular directory (e.g. /tmp/result.json)");
  };
  if (under_system_tree(fs::absolute(path).lexically_normal())) refuse_system_tree();
  const fs::path target = resolved_target(path, flag);
  if (under_system_tree(target)) refuse_system_tree();
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      refuse(flag, path, "is a directory", "name a file inside it (e.g. " + (path / "result.json").string() + ")");
    if (!S_ISREG(st.st_mode))
      refuse(flag, path, "is " + file_kind_text(st.st_mode) + ", not a regular file",
             "gpcbench replaces only regular files; name a new file instead");
  } else if (errno != ENOENT && errno != ENOTDIR) {  // ENOTDIR: the parent check names it
    refuse(flag, path, "cannot be examined (" + errno_text(errno) + ")", "choose another path");
  }
  check_parent_dir(path, target.parent_path(), flag);
}

void write_output_file(const fs::path& path, std::string_view text) {
  const auto system_tree = [&] {
    return UnavailableError(path.string() + ": under /dev, /proc or /sys, where gpcbench never writes");
  };
  if (under_system_tree(fs::absolute(path).lexically_normal())) throw system_tree();
  const fs::path target = resolved_target(path, "output file");
  if (under_system_tree(target)) throw system_tree();
  // Unique per process and call, in the target's directory so the rename stays atomic.
  const fs::path tmp = target.string() + "." + std::to_string(::getpid()) + "." +
                       std::to_string(temp_counter++) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    throw UnavailableError("cannot create " + tmp.string() + ": " + errno_text(errno) +
                           "; check the directory exists and is writable");
  int err = write_all(fd, text);
  const char* step = "writing";
  if (err == 0 && ::fsync(fd) != 0) {
    err = errno;
    step = "syncing";
  }
  if (::close(fd) != 0 && err == 0) {
    err = errno;
    step = "closing";
  }
  std::string why;
  if (err == 0) {
    step = "renaming it into place";
    err = rename_into_place(tmp, target, why);
  }
  if (err == 0) return;
  ::unlink(tmp.c_str());  // never leave a partial or orphaned temporary file
  if (why.empty()) why = errno_text(err);
  throw UnavailableError(std::string(step) + " " + path.string() + " failed: " + why +
                         (err == ENOSPC || err == EFBIG || err == EDQUOT
                              ? "; free some space or choose another directory" : ""));
}

}  // namespace gpc
