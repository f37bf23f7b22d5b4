#include "trace/trace_instance.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/errors.hpp"
#include "common/stop.hpp"
#include "env/sysfs.hpp"
#include "trace/trace_test_support.hpp"
#include "trace/tracepoint_reader.hpp"

namespace gpc::trace {
namespace {

std::string read_file(const std::string& path) { return read_text_file(path).text.value_or(""); }

// Runs `child` in a forked process; returns its pid. `child` must end with _exit.
template <typename F>
pid_t fork_child(F child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    child();
    ::_exit(99);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

TEST(TracefsRoot, NeverMountsAnythingInThisProcesssNamespace) {
  const std::string before = read_file("/proc/self/mountinfo");
  {
    GPC_REQUIRE_TRACEFS(root);
    auto instance = TraceInstance::create(*root, {});
    instance->enable_event("sched", "sched_switch");
    TracepointReader reader(*instance, {"sched"});
    instance->start();
    reader.drain();  // libtracefs looks up the top-level directory in here
    instance->stop();
  }
  EXPECT_EQ(read_file("/proc/self/mountinfo"), before)
      << "a tracefs mount appeared in the process's (the global) mount namespace";
}

TEST(TraceInstance, ItsDestructorRemovesIt) {
  GPC_REQUIRE_TRACEFS(root);
  std::string name;
  {
    auto instance = TraceInstance::create(*root, {});
    name = instance->name();
    ASSERT_TRUE(instance_exists(root->path(), name));
    EXPECT_EQ(name.rfind(kInstancePrefix, 0), 0u);
  }
  EXPECT_FALSE(instance_exists(root->path(), name));
}

TEST(TraceInstance, ConfiguresItsOwnClockBufferAndPidFilter) {
  GPC_REQUIRE_TRACEFS(root);
  InstanceOptions o;
  o.processes = {::getpid()};
  o.buffer_kb_per_cpu = 1024;
  auto instance = TraceInstance::create(*root, o);
  EXPECT_NE(read_file(instance->dir() + "/trace_clock").find("[mono]"), std::string::npos);
  EXPECT_GE(std::stoul(read_file(instance->dir() + "/buffer_size_kb")), 1024u);  // rounded up to pages
  EXPECT_NE(read_file(instance->dir() + "/set_event_pid").find(std::to_string(::getpid())), std::string::npos);
  EXPECT_EQ(read_file(instance->dir() + "/options/event-fork"), "1");
  // The top-level instance keeps its own settings.
  EXPECT_EQ(read_file(root->path() + "/set_event_pid"), "");
}

TEST(TraceInstance, AnUnknownEventNamesWhatIsMissing) {
  GPC_REQUIRE_TRACEFS(root);
  auto instance = TraceInstance::create(*root, {});
  try {
    instance->enable_event("no_such_system", "no_such_event");
    FAIL() << "enabling a missing event did not throw";
  } catch (const UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("no 'no_such_system' events"), std::string::npos) << e.what();
  }
}

// Ctrl-C ends a run through its normal teardown (gpc::stop_requested()), and that removes
// the instance: a child process traces until SIGINT, exactly as a gpcbench run does.
TEST(TraceInstance, SigintEndsTheRunAndRemovesItsInstance) {
  GPC_REQUIRE_TRACEFS(root);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = fork_child([&] {
    ::close(pipe_fds[0]);
    install_stop_signal_handlers();
    std::string reason;
    auto child_root = TracefsRoot::open(reason);
    if (!child_root) ::_exit(3);
    {
      auto instance = TraceInstance::create(*child_root, {});
      instance->start();
      const std::string line = instance->name() + "\n";
      if (::write(pipe_fds[1], line.data(), line.size()) < 0) ::_exit(4);
      const Deadline bound(std::chrono::seconds(20));  // liveness bound, far above the signal
      while (!bound.expired()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (!stop_requested()) ::_exit(5);
    }
    ::_exit(128 + stop_signal());
  });
  ::close(pipe_fds[1]);
  char buf[128] = {};
  const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  ASSERT_GT(n, 1) << "the child did not create its instance";
  const std::string name(buf, static_cast<size_t>(n) - 1);
  EXPECT_TRUE(instance_exists(root->path(), name));
  ::kill(child, SIGINT);
  EXPECT_EQ(wait_exit_code(child), 130);
  EXPECT_FALSE(instance_exists(root->path(), name)) << "Ctrl-C left " << name << " behind";
}

// SIGKILL cannot be caught: the instance survives its process, and the next create()
// anywhere removes it because its pid is gone.
TEST(TraceInstance, AKilledProcesssInstanceIsRemovedByTheNextCreate) {
  GPC_REQUIRE_TRACEFS(root);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = fork_child([&] {
    std::string reason;
    auto child_root = TracefsRoot::open(reason);
    if (!child_root) ::_exit(3);
    auto instance = TraceInstance::create(*child_root, {});
    const std::string line = instance->name() + "\n";
    if (::write(pipe_fds[1], line.data(), line.size()) < 0) ::_exit(4);
    ::pause();
    ::_exit(5);
  });
  ::close(pipe_fds[1]);
  char buf[128] = {};
  const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  ASSERT_GT(n, 1);
  const std::string name(buf, static_cast<size_t>(n) - 1);
  ::kill(child, SIGKILL);
  EXPECT_EQ(wait_exit_code(child), 128 + SIGKILL);
  ASSERT_TRUE(instance_exists(root->path(), name)) << "SIGKILL should have left the instance";
  auto next = TraceInstance::create(*root, {});
  EXPECT_FALSE(instance_exists(root->path(), name)) << "the stale instance was not removed";
}

}  // namespace
}  // namespace gpc::trace
