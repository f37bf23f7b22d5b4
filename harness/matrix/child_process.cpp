#include "matrix/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include "common/errors.hpp"
#include "common/stop.hpp"

namespace gpc::matrix {
namespace {

using Clock = std::chrono::steady_clock;

// What the child needs, prepared before fork(): after it only async-signal-safe calls are
// allowed (the parent may have threads).
struct ChildSetup {
  std::vector<char*> argv;
  const char* log = nullptr;  // nullptr: inherit stdout and stderr
  bool own_process_group = true;
  pid_t parent = 0;
  int error_pipe = -1;        // write end: the child reports a failed setup or exec here
};

[[noreturn]] void child_fail(int pipe_fd, int err) {
  ssize_t ignored = ::write(pipe_fd, &err, sizeof err);
  (void)ignored;
  _exit(127);
}

// In the child, between fork() and exec(): async-signal-safe calls only.
[[noreturn]] void exec_child(const ChildSetup& c) {
  if (c.own_process_group) setpgid(0, 0);
  // The child dies with the matrix: SIGTERM when the parent thread ends, even by SIGKILL
  // (prctl(2)). A parent already gone before prctl() would never send it: check after.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) child_fail(c.error_pipe, errno);
  if (getppid() != c.parent) _exit(128 + SIGTERM);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGINT, SIGTERM, SIGPIPE}) sigaction(sig, &dfl, nullptr);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  if (c.log) {
    const int fd = open(c.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) child_fail(c.error_pipe, errno);
  }
  execv(c.argv[0], c.argv.data());
  child_fail(c.error_pipe, errno);
}

// Starts the child; throws SystemError naming the program when it cannot be started.
pid_t start_child(ChildSetup& c, const std::string& program) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw SystemError("pipe2", errno);
  c.error_pipe = fds[1];
  c.parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) exec_child(c);
  const int fork_errno = errno;
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    throw SystemError("fork for " + program, fork_errno);
  }
  int child_errno = 0;
  ssize_t n;
  do n = ::read(fds[0], &child_errno, sizeof child_errno); while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {  // exec failed: the pipe was not closed by exec
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw SystemError("starting " + program, child_errno);
  }
  return pid;
}


void kill_and_reap(pid_t pid, bool group, int& status) {
  const pid_t target = group ? -pid : pid;
  kill(target, SIGTERM);
  const auto hard_deadline = Clock::now() + std::chrono::seconds(2);
  while (!reaped(pid, status)) {
    if (Clock::now() >= hard_deadline) {
      kill(target, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Whatever else the group left behind (a grandchild that ignored SIGTERM) goes too.
  if (group) kill(target, SIGKILL);
}

}  // namespace

bool reaped(pid_t pid, int& status) {
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno != EINTR) throw SystemError("waitpid", errno);
  }
}

std::string ChildResult::describe() const {
  char buf[96];
  switch (end) {
    case End::kExited: std::snprintf(buf, sizeof buf, "exit %d", code); break;
    case End::kSignaled: std::snprintf(buf, sizeof buf, "killed by signal %d (%s)", code, strsignal(code)); break;
    case End::kTimedOut: std::snprintf(buf, sizeof buf, "timed out after %.1f s and was killed", seconds); break;
    case End::kInterrupted: std::snprintf(buf, sizeof buf, "interrupted (Ctrl-C) after %.1f s", seconds); break;
  }
  return buf;
}

ChildResult run_child(const std::vector<std::string>& argv, const std::filesystem::path& log, Nanos timeout,
                      bool own_process_group) {
  std::vector<std::string> args = argv;
  ChildSetup setup;
  for (auto& a : args) setup.argv.push_back(a.data());
  setup.argv.push_back(nullptr);
  const std::string log_path = log.string();
  if (!log.empty()) setup.log = log_path.c_str();
  setup.own_process_group = own_process_group;

  const auto start = Clock::now();
  const pid_t pid = start_child(setup, argv.at(0));

  ChildResult result;
  int status = 0;
  const auto deadline = start + timeout;
  while (!reaped(pid, status)) {
    if (stop_requested() || Clock::now() >= deadline) {
      result.end = stop_requested() ? ChildResult::End::kInterrupted : ChildResult::End::kTimedOut;
      kill_and_reap(pid, own_process_group, status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (result.end == ChildResult::End::kExited) {
    if (WIFEXITED(status)) {
      result.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.end = ChildResult::End::kSignaled;
      result.code = WTERMSIG(status);
    }
  }
  return result;
}

std::string tail_of_file(const std::filesystem::path& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

}  // namespace gpc::matrix
