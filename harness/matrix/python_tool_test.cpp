// run_stoppable_child (issue 15, item 10): a stop signal to gpcbench reaches the Python
// script once, the result is 128 + N, a script that ignores it is killed after the grace
// period, the script starts with the stop signals blocked, and it dies with gpcbench.
#include "matrix/python_tool.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/errors.hpp"
#include "common/stop.hpp"

namespace gpc::matrix {
namespace {
namespace fs = std::filesystem;
using PtClock = std::chrono::steady_clock;

// The stand-in script: records its blocked signals, installs handlers that append the
// signal number to OUT.sig, unblocks, says ready, then sleeps. MODE "exit": the handler
// waits 1 s (time for a second, wrongly forwarded signal to show) and exits 128 + N.
// MODE "ignore": the handler only records. MODE "code": exits 3 at once.
const char* kChildScript = R"PY(
import os, signal, sys, time
out, mode = sys.argv[1], sys.argv[2]
if mode == "code":
    sys.exit(3)
blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
def on_signal(sig, frame):
    with open(out + ".sig", "a") as f:
        f.write(f"{sig}\n")
    if mode == "exit":
        time.sleep(1)
        os._exit(128 + sig)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)
with open(out + ".blocked", "w") as f:
    f.write(" ".join(str(int(s)) for s in sorted(blocked)))
with open(out + ".pid", "w") as f:
    f.write(str(os.getpid()))
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
open(out + ".ready", "w").close()
for _ in range(600):
    time.sleep(0.1)
)PY";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_for_file(const fs::path& p) {
  const auto until = PtClock::now() + std::chrono::seconds(60);  // liveness bound, loaded machine
  while (!fs::exists(p)) {
    if (PtClock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class PythonToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
    char tmpl[] = "/tmp/gpc-python-tool-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "child.py") << kChildScript;
    out_ = dir_ / "out";
    // Threads made from here on block the stop signals too, so a process-directed kill
    // stays pending for run_stoppable_child's sigtimedwait (as in single-threaded gpcbench).
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
  }
  void TearDown() override {
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    reset_stop();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::vector<std::string> argv(const char* mode) {
    return {"/usr/bin/python3", (dir_ / "child.py").string(), out_.string(), mode};
  }
  // Sends `sig` to this process `times` times, 200 ms apart, once the child is ready.
  std::thread signal_when_ready(int sig, int times) {
    return std::thread([this, sig, times] {
      if (!wait_for_file(out_.string() + ".ready")) return;
      for (int i = 0; i < times; ++i) {
        kill(getpid(), sig);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  int signals_seen() {
    std::istringstream in(read_text(out_.string() + ".sig"));
    int n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
  }

  fs::path dir_, out_;
  sigset_t old_mask_;
};

TEST_F(PythonToolTest, ReturnsTheExitCode) { EXPECT_EQ(run_stoppable_child(argv("code")), 3); }

TEST_F(PythonToolTest, SigintIsForwardedOnceAndGives130) {
  std::thread sender = signal_when_ready(SIGINT, 2);  // the second must not be forwarded
  EXPECT_EQ(run_stoppable_child(argv("exit")), 130);
  sender.join();
  EXPECT_EQ(read_text(out_.string() + ".sig"), "2\n");
  EXPECT_EQ(signals_seen(), 1);
}

TEST_F(PythonToolTest, SigtermGives143) {
  std::thread sender = signal_when_ready(SIGTERM, 1);
  EXPECT_EQ(run_stoppable_child(argv("exit")), 143);
  sender.join();
  EXPECT_EQ(read_text(out_.string() + ".sig"), "15\n");
}

TEST_F(PythonToolTest, TheChildStartsWithStopSignalsBlocked) {
  EXPECT_EQ(run_stoppable_child(argv("code")), 3);  // warm the interpreter's caches
  std::thread sender = signal_when_ready(SIGTERM, 1);
  EXPECT_EQ(run_stoppable_child(argv("exit")), 143);
  sender.join();
  EXPECT_EQ(read_text(out_.string() + ".blocked"), "2 15");  // SIGINT, SIGTERM pending until its handlers exist
}

TEST_F(PythonToolTest, AChildIgnoringTheSignalIsKilledAfterTheGrace) {
  std::thread sender = signal_when_ready(SIGINT, 1);
  const auto start = PtClock::now();
  EXPECT_EQ(run_stoppable_child(argv("ignore"), {std::chrono::hours(1), std::chrono::seconds(1)}), 130);
  sender.join();
  EXPECT_LT(PtClock::now() - start, std::chrono::seconds(50));  // liveness: not the child's 60 s
  EXPECT_EQ(signals_seen(), 1);
}

TEST_F(PythonToolTest, AStopRequestedBeforeTheStartRunsNothing) {
  request_stop();
  EXPECT_EQ(run_stoppable_child(argv("exit")), 130);
  EXPECT_FALSE(fs::exists(out_.string() + ".ready"));
}

TEST_F(PythonToolTest, ATimeoutStopsTheChildAndThrows) {
  EXPECT_THROW(run_stoppable_child(argv("ignore"), {std::chrono::seconds(2), std::chrono::seconds(1)}),
               UnavailableError);
}

TEST_F(PythonToolTest, TheChildDiesWithGpcbench) {
  // A stand-in gpcbench (a forked copy of this test) is SIGKILLed while its child runs.
  const pid_t runner = fork();
  ASSERT_GE(runner, 0);
  if (runner == 0) {
    run_stoppable_child(argv("exit"));
    _exit(0);
  }
  ASSERT_TRUE(wait_for_file(out_.string() + ".ready"));
  kill(runner, SIGKILL);
  int status = 0;
  waitpid(runner, &status, 0);
  const pid_t child = std::atoi(read_text(out_.string() + ".pid").c_str());
  ASSERT_GT(child, 0);
  // PR_SET_PDEATHSIG sent it SIGTERM; its handler records 15 (the file may exist a moment
  // before its line does) and exits.
  const auto until = PtClock::now() + std::chrono::seconds(60);
  while (read_text(out_.string() + ".sig").find('\n') == std::string::npos && PtClock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(read_text(out_.string() + ".sig").substr(0, 3), "15\n");
}

}  // namespace
}  // namespace gpc::matrix
