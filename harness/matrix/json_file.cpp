#include "matrix/json_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/errors.hpp"

namespace gpc::matrix {
namespace fs = std::filesystem;

namespace {

// Only a regular file (or nothing) may be replaced; symlinks are not followed.
void refuse_non_regular(const fs::path& path) {
  std::error_code ec;
  const auto st = fs::symlink_status(path, ec);
  if (!fs::exists(st) || fs::is_regular_file(st)) return;
  throw UsageError("refusing to replace " + path.string() +
                   ": it is not a regular file (a directory, device, FIFO or symlink); move it away or choose "
                   "another --out directory");
}

// Writes all of `text` to `fd`; false with errno set on a short or failed write.
bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void write_text_file(const fs::path& path, const std::string& text) {
  refuse_non_regular(path);
  // mkstemp: a fresh name in the same directory (so rename is atomic), never an existing node.
  std::string tmp = path.string() + ".tmp.XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0)
    throw UnavailableError("cannot write " + path.string() + ": " + std::strerror(errno) +
                           "; check that the directory exists and is writable");
  // mkstemp makes 0600; give the file the mode an ordinary create would (0666 & ~umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  const bool written = write_all(fd, text);
  const int write_errno = errno;
  const bool closed = ::close(fd) == 0;
  std::error_code ec;
  if (!written || !closed) {
    fs::remove(tmp, ec);
    throw UnavailableError("writing " + path.string() + " failed: " +
                           std::strerror(written ? errno : write_errno) + " (disk full?); nothing was left behind");
  }
  try {
    refuse_non_regular(path);  // again: something may have appeared while we wrote
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw UnavailableError("cannot replace " + path.string() + ": " + ec.message());
  }
}

void write_json_file(const fs::path& path, const nlohmann::json& j) { write_text_file(path, j.dump(2) + "\n"); }

}  // namespace gpc::matrix
