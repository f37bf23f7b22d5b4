// Issue 12 item 7: KVM's halt polling stops as soon as another task is runnable on the
// CPU (single_task_running(), a per-CPU runqueue read). Userspace has no such read. The
// candidate signals, each beside the clock read the poll loop already makes every 32
// pauses (floor/clock_gettime_poll): a syscall costs 1.1-1.8 us here (measured 2026-12-01,
// load average 1.4: 41-68x the clock read), three orders of magnitude above the kernel's
// check, and all of them report a preemption only after it happened, which a gap between
// two clock reads shows for free. Hence the model uses the gap (wait.hpp, kDescheduledGap)
// and these figures are what docs/pfncache-model.md cites.
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "floors.hpp"
#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

const std::string kFloorKey = "clock_gettime_poll";

double loop_ns(const std::function<void()>& body, uint64_t iters) {
  const uint64_t t0 = LoopTimer::thread_cpu_ns();
  for (uint64_t i = 0; i < iters; ++i) body();
  return static_cast<double>(LoopTimer::thread_cpu_ns() - t0) / static_cast<double>(iters);
}

void read_clock() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  benchmark::DoNotOptimize(ts);
}

void BM_clock_floor(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  LoopTimer t;
  t.start();
  for (auto _ : state) read_clock();
  finish_floor(state, kFloorKey, t.ns_per_op(state));
}

// Reads a small /proc file with pread, as a poll loop would (fd kept open).
std::function<void()> pread_signal(const char* path, int* fd) {
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  return [fd] {
    char buf[256];
    benchmark::DoNotOptimize(pread(*fd, buf, sizeof buf, 0));
  };
}

void BM_signal(benchmark::State& state, const char* what) {
  PinningScope pin(spread_pu(0));
  int fd = -1;
  std::function<void()> body;
  const std::string w(what);
  if (w == "getrusage_thread") {  // ru_nivcsw: involuntary switches so far
    body = [] {
      rusage ru{};
      getrusage(RUSAGE_THREAD, &ru);
      benchmark::DoNotOptimize(ru.ru_nivcsw);
    };
  } else if (w == "thread_schedstat") {  // run_delay: time spent runnable but waiting
    body = pread_signal("/proc/thread-self/schedstat", &fd);
  } else {  // loadavg: the system-wide count of runnable tasks (not per CPU)
    body = pread_signal("/proc/loadavg", &fd);
  }
  if (fd == -1 && w != "getrusage_thread") {
    state.SkipWithError(("cannot open the /proc file for " + w).c_str());
    return;
  }
  LoopTimer t;
  t.start();
  for (auto _ : state) body();
  const double ns = t.ns_per_op(state);
  if (fd >= 0) close(fd);
  finish_vs_floor(state, kFloorKey, ns, [] { return loop_ns(read_clock, 200'000); });
}

const bool registered = [] {
  benchmark::RegisterBenchmark("floor/clock_gettime_poll", BM_clock_floor);
  for (const char* w : {"getrusage_thread", "thread_schedstat", "loadavg"})
    benchmark::RegisterBenchmark((std::string("runnable_signal/") + w).c_str(), BM_signal, w);
  return true;
}();

}  // namespace
}  // namespace gpc::bench
