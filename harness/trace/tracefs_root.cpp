#include "trace/tracefs_root.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "trace/tracefs_shim.h"

namespace gpc::trace {
namespace {

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Why fsopen/fsmount failed, in words a user can act on.
std::string mount_failure(const char* call, int err) {
  switch (err) {
    case ENOSYS:
      return fmt::format("tracefs is not mounted and this kernel has no new mount API ({} {}: Linux < 5.2); "
                         "mount tracefs at /sys/kernel/tracing",
                         call, errno_text(err));
    case ENODEV:
      return "tracefs is not mounted and the kernel has no tracefs (CONFIG_TRACING off)";
    case EPERM:
    case EACCES:
      return fmt::format("tracefs is not mounted and a private mount needs CAP_SYS_ADMIN ({} {}); run as root or "
                         "mount tracefs at /sys/kernel/tracing",
                         call, errno_text(err));
    default:
      return fmt::format("tracefs is not mounted and a private mount failed: {} {}", call, errno_text(err));
  }
}

// A tracefs mount that belongs to no mount namespace; -1 and `reason` on failure.
int mount_detached(std::string& reason) {
  const int fs = static_cast<int>(syscall(SYS_fsopen, "tracefs", FSOPEN_CLOEXEC));
  if (fs < 0) {
    reason = mount_failure("fsopen(tracefs)", errno);
    return -1;
  }
  const UniqueFd fs_fd(fs);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    reason = mount_failure("fsconfig(FSCONFIG_CMD_CREATE)", errno);
    return -1;
  }
  const int mnt = static_cast<int>(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0));
  if (mnt < 0) reason = mount_failure("fsmount", errno);
  return mnt;
}

}  // namespace

std::string find_mounted_tracefs() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, debugfs;
  while (std::getline(in, line)) {
    // "36 35 0:12 / /sys/kernel/tracing rw,... - tracefs tracefs rw"
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, mount_point, fstype;
    head >> id >> parent >> dev >> root >> mount_point;
    tail >> fstype;
    if (fstype == "tracefs" && is_dir(mount_point + "/events")) return mount_point;
    if (fstype == "debugfs" && debugfs.empty() && is_dir(mount_point + "/tracing/events"))
      debugfs = mount_point + "/tracing";
  }
  return debugfs;
}

std::unique_ptr<TracefsRoot> TracefsRoot::open(std::string& reason, bool allow_private_mount) {
  std::unique_ptr<TracefsRoot> root(new TracefsRoot());
  if (std::string mounted = find_mounted_tracefs(); !mounted.empty()) {
    root->path_ = mounted;
    root->how_ = "existing mount at " + mounted;
    return root->pin_library_dir(reason) ? std::move(root) : nullptr;
  }
  if (!allow_private_mount) {
    reason = "tracefs is not mounted (and a private mount was not allowed); mount it at /sys/kernel/tracing";
    return nullptr;
  }
  const int fd = mount_detached(reason);
  if (fd < 0) return nullptr;
  root->mount_fd_ = UniqueFd(fd);
  root->path_ = fmt::format("/proc/self/fd/{}", fd);
  root->how_ = "private detached mount (fsmount; visible to no other process)";
  if (!is_dir(root->path_ + "/events")) {
    reason = "the private tracefs mount has no events/ directory (kernel without trace events?)";
    return nullptr;
  }
  return root->pin_library_dir(reason) ? std::move(root) : nullptr;
}

bool TracefsRoot::pin_library_dir(std::string& reason) const {
  // libtracefs keeps the last directory set; each root sets its own before any use, so a
  // stale one from a closed root is never looked up (and no lookup ever mounts anything).
  if (gpc_tracefs_set_tracing_dir(path_.c_str()) == 0) return true;
  reason = "libtracefs refused the tracing directory " + path_;
  return false;
}

}  // namespace gpc::trace
