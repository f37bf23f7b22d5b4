// The tracepoint reader on an event every kernel with syscall tracing has:
// syscalls:sys_enter_madvise, whose `start` field plays the part kvm_unmap_hva_range's
// range does in a layer-K run.
#include "trace/tracepoint_reader.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "common/errors.hpp"
#include "trace/host_ops.hpp"
#include "trace/trace_instance.hpp"
#include "trace/trace_test_support.hpp"

namespace gpc::trace {
namespace {

struct Seen {
  uint64_t ts_ns;
  int tid;
  uint64_t start;
};

constexpr int kCalls = 50;

void madvise_n(void* addr, int n) {
  for (int i = 0; i < n; ++i) ::madvise(addr, 4096, MADV_NORMAL);
}

std::unique_ptr<TraceInstance> madvise_instance(const TracefsRoot& root, pid_t process) {
  InstanceOptions o;
  o.processes = {process};
  auto instance = TraceInstance::create(root, o);
  try {
    instance->enable_event("syscalls", "sys_enter_madvise");
  } catch (const UnavailableError&) {
    return nullptr;  // kernel without CONFIG_FTRACE_SYSCALLS
  }
  return instance;
}

// Counts, stamps and reads the field of every madvise of this process, from the main
// thread and from a thread created after tracing began (event-fork follows it), and
// nothing of a process that was already running elsewhere.
TEST(TracepointReader, CountsTimestampsAndFieldsOfThisProcessOnly) {
  GPC_REQUIRE_TRACEFS(root);
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t other = ::fork();  // another process, started before the instance
  if (other == 0) {
    char c;
    if (::read(go[0], &c, 1) == 1) madvise_n(page, kCalls);
    ::_exit(0);
  }
  auto instance = madvise_instance(*root, ::getpid());
  if (!instance) GTEST_SKIP() << "syscalls:sys_enter_madvise does not exist here (CONFIG_FTRACE_SYSCALLS off)";
  TracepointReader reader(*instance, {"syscalls"});
  std::vector<Seen> seen;
  reader.on("syscalls", "sys_enter_madvise", [&](const TraceEvent& e) {
    seen.push_back({e.ts_ns(), e.tid(), e.field("start").value_or(0)});
  });
  reader.start(std::chrono::milliseconds(2));
  instance->start();
  const uint64_t before = mono_now_ns();
  madvise_n(page, kCalls);
  std::thread([page] { madvise_n(page, kCalls); }).join();
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  int status = 0;
  ::waitpid(other, &status, 0);
  const uint64_t after = mono_now_ns();
  instance->stop();
  reader.stop();
  ::munmap(page, 4096);

  // glibc madvises a thread's stack when the thread ends: only calls on our page count.
  size_t ours = 0;
  for (const Seen& s : seen) {
    EXPECT_GE(s.ts_ns, before) << "trace_clock=mono is not CLOCK_MONOTONIC";
    EXPECT_LE(s.ts_ns, after);
    EXPECT_NE(s.tid, other);
    ours += s.start == reinterpret_cast<uint64_t>(page) ? 1 : 0;
  }
  EXPECT_EQ(ours, 2u * kCalls) << "the other process's calls leaked in, or ours were lost";
  EXPECT_EQ(instance->lost_events(), 0u);
}

TEST(TracepointReader, AnEventWithoutALoadedFormatIsRefusedWithItsName) {
  GPC_REQUIRE_TRACEFS(root);
  auto instance = TraceInstance::create(*root, {});
  TracepointReader reader(*instance, {"sched"});
  try {
    reader.on("kvm", "kvm_exit", [](const TraceEvent&) {});
    FAIL() << "no error for an event whose system was not loaded";
  } catch (const UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("kvm:kvm_exit"), std::string::npos) << e.what();
  }
}

// The kernel's own rendering gives symbolic fields (what kvm_exit's reason needs).
TEST(TracepointReader, TextRendersTheEventsPrintFormat) {
  GPC_REQUIRE_TRACEFS(root);
  InstanceOptions o;
  o.processes = {::getpid()};
  auto instance = TraceInstance::create(*root, o);
  instance->enable_event("sched", "sched_process_fork");
  TracepointReader reader(*instance, {"sched"});
  std::vector<std::pair<int, std::string>> forks;  // child_pid field, rendering
  reader.on("sched", "sched_process_fork", [&](const TraceEvent& e) {
    forks.emplace_back(static_cast<int>(e.field("child_pid").value_or(0)), e.text());
  });
  instance->start();
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  instance->stop();
  reader.drain();
  // Our fork is there (a sanitizer runtime may fork helpers of its own, also traced).
  bool found = false;
  for (const auto& [field, text] : forks) {
    if (field != child) continue;
    found = true;
    EXPECT_NE(text.find("child_pid=" + std::to_string(child)), std::string::npos) << text;
  }
  EXPECT_TRUE(found) << forks.size() << " fork events, none with child_pid " << child;
}

}  // namespace
}  // namespace gpc::trace
