#include "scenarios/co_runner.hpp"

#include <algorithm>
#include <thread>

#include "common/stop.hpp"
#include "topology/pinning.hpp"

namespace gpc {

uint64_t CoRunner::work_unit(uint64_t seed) {
  // xorshift64 chain: each step depends on the previous one, so it cannot be vectorized
  // or hoisted; 1024 steps keep a unit short against the run's sampling granularity.
  uint64_t x = seed | 1;
  for (int i = 0; i < 1024; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

CoRunner::CoRunner(int os_pu) : pu_(os_pu) {
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { loop(); });
}

CoRunner::~CoRunner() { stop(); }

void CoRunner::loop() {
  if (pu_ >= 0) pin_current_thread(pu_);
  uint64_t sink = 0;
  uint64_t n = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    sink += work_unit(n + sink);
    units_.store(++n, std::memory_order_relaxed);
  }
  // Publish the sink so the work is observable and cannot be elided.
  if (sink == 42) units_.fetch_add(0, std::memory_order_relaxed);
}

double CoRunner::stop() {
  if (joined_) return rate_;
  stop_.store(true, std::memory_order_relaxed);
  thread_.join();
  joined_ = true;
  stopped_ = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(stopped_ - started_).count();
  rate_ = secs > 0 ? static_cast<double>(units()) / secs : 0;
  return rate_;
}

double CoRunner::measure_alone(int os_pu, std::chrono::nanoseconds how_long) {
  CoRunner alone(os_pu);
  // In short steps, so Ctrl-C during the baselines is seen at once (issue 15 item 8); the
  // rate is over the time it really ran, so a cut-short baseline is still a rate.
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until && !stop_requested())
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(until - std::chrono::steady_clock::now(),
                                                                   std::chrono::milliseconds(10)));
  return alone.stop();
}

}  // namespace gpc
