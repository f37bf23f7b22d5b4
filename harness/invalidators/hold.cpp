#include "invalidators/hold.hpp"

#include <time.h>

#include <fmt/format.h>

#include "common/errors.hpp"
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
    sleep_ns(std::min<Nanos>(left - kSleepMargin, kSleepSlice));
  }
}

bool hold_for(Nanos d, const std::atomic<bool>* stop_flag) {
  if (d <= Nanos(0)) return true;
  return wait_until(Clock::now() + d, stop_flag);
}

void check_hold_fits(Nanos hold, Nanos duration, Nanos refresh_bound, const char* flag) {
  if (hold >= duration)
    throw UsageError(fmt::format("{} {} does not fit in a run of {}: a refresh that met the hold would wait out "
                                 "the run; use a hold shorter than --duration (issue 14 measures 0 to 1ms) or a "
                                 "longer --duration",
                                 flag, format_ns(static_cast<double>(hold.count())),
                                 format_ns(static_cast<double>(duration.count()))));
  if (refresh_bound > Nanos(0) && hold >= refresh_bound)
    throw UsageError(fmt::format("{} {} is not shorter than a refresh's bound ({}): every refresh that met it would "
                                 "be counted starved; use a hold below {}",
                                 flag, format_ns(static_cast<double>(hold.count())),
                                 format_ns(static_cast<double>(refresh_bound.count())),
                                 format_ns(static_cast<double>(refresh_bound.count()))));
}

}  // namespace gpc
