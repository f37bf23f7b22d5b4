// Where this process reaches tracefs. An existing mount (/sys/kernel/tracing or debugfs's
// tracing/) is used as it is. Where none is mounted, tracefs is mounted *detached*: the
// new mount API (fsopen/fsconfig/fsmount, Linux 5.2) gives a mount that is attached to no
// directory in any mount namespace, reachable only through its file descriptor
// (/proc/self/fd/N). Nothing becomes visible to any other process, the global namespace is
// never touched, and the mount goes away when the fd is closed (also when the process
// dies). It works in a multithreaded process, where unshare(CLONE_NEWNS) fails (EINVAL).
// Why this over a private namespace or a flag: docs/kernel-evidence.md.
//
// libtracefs, where it looks for the tracing directory itself (tracefs_tracing_dir(), any
// call with a NULL instance, and inside tracefs_iterate_raw_events()), mounts tracefs at
// /sys/kernel/tracing in the global namespace when none is mounted (mount_tracefs() in
// src/tracefs-utils.c). So open() pins libtracefs to path() (tracefs_set_tracing_dir)
// before anything else uses it, and this library passes path() explicitly everywhere.
#pragma once

#include <memory>
#include <string>

#include "common/unique_fd.hpp"

namespace gpc::trace {

class TracefsRoot {
 public:
  // The tracefs this process can use, or nullptr with `reason` saying why not (no
  // tracefs in the kernel, no permission to mount, ...). Never throws for an unusable
  // machine. `allow_private_mount` = false: use an existing mount only.
  static std::unique_ptr<TracefsRoot> open(std::string& reason, bool allow_private_mount = true);

  // The directory holding `events/`, `instances/`, `trace_clock`, ...
  const std::string& path() const { return path_; }
  // "existing mount at /sys/kernel/tracing" or "private detached mount (fsmount)".
  const std::string& how() const { return how_; }
  bool private_mount() const { return mount_fd_.valid(); }

 private:
  TracefsRoot() = default;
  bool pin_library_dir(std::string& reason) const;
  std::string path_;
  std::string how_;
  UniqueFd mount_fd_;  // the detached mount; closing it unmounts
};

// The mount point of a tracefs (or debugfs/tracing) listed in /proc/self/mountinfo, or ""
// when none is mounted in this process's mount namespace.
std::string find_mounted_tracefs();

}  // namespace gpc::trace
