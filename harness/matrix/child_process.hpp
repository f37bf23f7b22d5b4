// Runs one bounded subprocess in its own process group, so a timeout or Ctrl-C can kill
// everything it started (its threads, VMs and any helpers) with one signal, and tied to the
// calling thread's life by PR_SET_PDEATHSIG, so a SIGKILLed matrix or stress leaves no run behind.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/duration.hpp"

namespace gpc::matrix {

struct ChildResult {
  enum class End { kExited, kSignaled, kTimedOut, kInterrupted };
  End end = End::kExited;
  int code = 0;          // exit status (kExited) or signal number (kSignaled)
  double seconds = 0;    // wall time
  std::string describe() const;  // "exit 0", "killed by signal 11", "timed out after 12.0 s"
};

// Runs argv[0] with argv, stdout and stderr appended to `log` (empty path: inherited).
// Returns when it ends, when `timeout` passes (the group gets SIGTERM, then SIGKILL after
// 2 s) or when gpc::stop_requested() (same teardown, End::kInterrupted).
// Throws SystemError when the program cannot be started (fork + exec, not posix_spawn: the
// death signal must be set in the child, prctl(2)). Call it from the thread that outlives the
// child: PR_SET_PDEATHSIG fires when the creating thread ends.
ChildResult run_child(const std::vector<std::string>& argv, const std::filesystem::path& log, Nanos timeout,
                      bool own_process_group = true);

// The last `max_lines` non-empty lines of a text file (for failure reasons); "" if unreadable.
std::string tail_of_file(const std::filesystem::path& path, int max_lines);

// Non-blocking reap (waitpid WNOHANG, EINTR retried); true when the child has ended and
// `status` is set.
bool reaped(pid_t pid, int& status);

}  // namespace gpc::matrix
