// Error kinds every verb maps to an exit code (BRIEF §4): usage mistakes and an
// unusable machine/input exit 2; invariant violations and regressions exit 1.
#pragma once

#include <stdexcept>
#include <string>

namespace gpc {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,   // invariant violation, regression, failed run
  kExitUnusable = 2,  // bad usage, unusable input, or the machine lacks what the verb needs
};

// A mistake in how gpcbench was called. The message names the problem and the fix.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The machine (or an input file) cannot support what was asked, e.g. no /dev/kvm.
class UnavailableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A system call failed; carries errno and names the call.
class SystemError : public std::runtime_error {
 public:
  SystemError(const std::string& what_call, int err);
  int error() const { return err_; }

 private:
  int err_;
};

// "No such file or directory (ENOENT)": the message and the errno's name, for reasons
// that a user reads and may search for.
std::string errno_text(int err);

// Throws SystemError(what_call, errno) when rc < 0, returns rc otherwise.
long check_syscall(long rc, const char* what_call);

}  // namespace gpc
