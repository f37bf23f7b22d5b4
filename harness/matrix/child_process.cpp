#include "matrix/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

extern char** environ;

namespace gpc::matrix {
namespace {

using Clock = std::chrono::steady_clock;

// posix_spawn's C objects, released on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Non-blocking reap; true when the child has ended and `status` is set.
bool reaped(pid_t pid, int& status) {
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno != EINTR) throw SystemError("waitpid", errno);
  }
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
  SpawnSetup setup;
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(&setup.actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&setup.actions, STDOUT_FILENO, STDERR_FILENO);
  }
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (own_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&setup.attr, 0);
  }
  posix_spawnattr_setflags(&setup.attr, flags);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setsigmask(&setup.attr, &empty);

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  const auto start = Clock::now();
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, cargv[0], &setup.actions, &setup.attr, cargv.data(), environ);
  if (rc != 0) throw SystemError("posix_spawn " + argv[0], rc);

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
