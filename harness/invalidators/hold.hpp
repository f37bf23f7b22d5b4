// Waiting precisely for short times. clock_nanosleep overshoots by a mean 76 us (worst 107 us
// of 50 sleeps of 10 us, measured on the 2-vCPU dev VM with the default 50 us timer slack),
// so holds and rate waits below kSpinBelow spin on the clock; longer ones sleep until
// kSleepMargin before the deadline and spin the rest. Long sleeps wake every 10 ms to poll
// the stop request.
#pragma once

#include <atomic>
#include <chrono>

#include "common/duration.hpp"

namespace gpc {

inline constexpr Nanos kSpinBelow{200'000};
inline constexpr Nanos kSleepMargin{150'000};

// Returns when `deadline` has passed (true) or a stop was requested first (false).
bool wait_until(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* stop_flag = nullptr);
// A hold of `d`, never cut short by a stop request (range_end must follow its start).
void hold_for(Nanos d);

}  // namespace gpc
