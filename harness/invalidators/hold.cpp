#include "invalidators/hold.hpp"

#include <time.h>

#include "common/stop.hpp"

namespace gpc {

using Clock = std::chrono::steady_clock;

static void sleep_ns(Nanos d) {
  timespec ts{static_cast<time_t>(d.count() / 1'000'000'000), static_cast<long>(d.count() % 1'000'000'000)};
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
}

static void spin_until(Clock::time_point deadline) {
  while (Clock::now() < deadline) __builtin_ia32_pause();
}

bool wait_until(Clock::time_point deadline, const std::atomic<bool>* stop_flag) {
  for (;;) {
    if (stop_requested() || (stop_flag && stop_flag->load(std::memory_order_relaxed))) return false;
    const auto left = deadline - Clock::now();
    if (left <= Nanos(0)) return true;
    if (left < kSpinBelow) {
      spin_until(deadline);
      return true;
    }
    sleep_ns(std::min<Nanos>(left - kSleepMargin, std::chrono::milliseconds(10)));
  }
}

void hold_for(Nanos d) {
  if (d <= Nanos(0)) return;
  const auto deadline = Clock::now() + d;
  if (d >= kSpinBelow) sleep_ns(d - kSleepMargin);
  spin_until(deadline);
}

}  // namespace gpc
