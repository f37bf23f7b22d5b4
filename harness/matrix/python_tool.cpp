#include "matrix/python_tool.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "matrix/child_process.hpp"
#include "matrix/install_paths.hpp"

namespace gpc::matrix {
namespace {

using Clock = std::chrono::steady_clock;

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// SIGINT/SIGTERM (taken with sigtimedwait instead of the stop handler) and SIGCHLD (so the
// wait wakes when the child ends) are blocked in this thread for the scope.
class BlockedSignals {
 public:
  BlockedSignals() {
    sigset_t set = stop_signals();
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~BlockedSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  BlockedSignals(const BlockedSignals&) = delete;
  BlockedSignals& operator=(const BlockedSignals&) = delete;

 private:
  sigset_t old_;
};

// After fork: only async-signal-safe calls. The stop signals stay blocked across exec.
[[noreturn]] void exec_child(char* const* argv, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);  // gpcbench died before prctl took effect
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t mask = stop_signals();
  sigprocmask(SIG_SETMASK, &mask, nullptr);
  execv(argv[0], argv);
  _exit(127);
}

pid_t start_child(const std::vector<std::string>& argv) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  if (access(cargv[0], X_OK) != 0) throw SystemError("cannot execute " + argv[0], errno);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw SystemError("fork for " + argv[0], errno);
  if (pid == 0) exec_child(cargv.data(), parent);
  return pid;
}


void kill_and_reap(pid_t pid, int& status) {
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Waits up to `left` (at most 100 ms, so a stop flag set by another thread is seen) for a
// stop signal or SIGCHLD; returns the stop signal taken, 0 otherwise.
int wait_for_signal(Clock::duration left) {
  const auto step = std::min<Clock::duration>(left, std::chrono::milliseconds(100));
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(step).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  sigset_t set = stop_signals();
  sigaddset(&set, SIGCHLD);
  const int sig = sigtimedwait(&set, nullptr, &ts);
  if (sig == SIGINT || sig == SIGTERM) return sig;
  if (stop_requested()) return stop_signal() != 0 ? stop_signal() : SIGINT;  // taken by another thread
  return 0;
}

}  // namespace

int run_stoppable_child(const std::vector<std::string>& argv, const StoppableLimits& limits) {
  const BlockedSignals blocked;
  if (stop_requested()) return 128 + (stop_signal() != 0 ? stop_signal() : SIGINT);  // stopped before we began
  const auto start = Clock::now();
  const pid_t pid = start_child(argv);
  int status = 0, forwarded = 0;
  bool timed_out = false;
  auto deadline = start + limits.timeout;
  while (!reaped(pid, status)) {
    const auto now = Clock::now();
    if (now >= deadline) {
      if (forwarded != 0 || timed_out) {  // the grace period is over
        kill_and_reap(pid, status);
        break;
      }
      timed_out = true;  // ask it to stop as a signal would, then give it the grace period
      kill(pid, SIGTERM);
      deadline = now + limits.grace;
      continue;
    }
    const int sig = wait_for_signal(deadline - now);
    if (sig != 0 && forwarded == 0 && !timed_out) {  // once: a second Ctrl-C is not forwarded
      forwarded = sig;
      kill(pid, sig);
      deadline = Clock::now() + limits.grace;
    }
  }
  if (forwarded != 0) {
    request_stop();  // a caller with more work to do (the matrix) must see it too
    return 128 + forwarded;
  }
  const std::string& what = argv.size() > 1 ? argv[1] : argv[0];  // the script, not the interpreter
  if (timed_out) {
    char buf[128];
    std::snprintf(buf, sizeof buf, " ran past its bound of %.0f s and was stopped",
                  std::chrono::duration<double>(limits.timeout).count());
    throw UnavailableError(what + buf);
  }
  if (WIFSIGNALED(status))
    throw UnavailableError(what + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                           strsignal(WTERMSIG(status)) + ")");
  return WEXITSTATUS(status);
}

int run_python_tool(const std::string& script, const std::vector<std::string>& args) {
  const char* python = "/usr/bin/python3";
  if (!std::filesystem::exists(python))
    throw UnavailableError("/usr/bin/python3 is missing: install the Debian package python3 (ci/install-deps)");
  std::vector<std::string> argv = {python, (report_code_dir() / script).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_stoppable_child(argv);
}

}  // namespace gpc::matrix
