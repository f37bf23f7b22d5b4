// Waiting precisely for short times. clock_nanosleep overshoots by a mean 76 us (worst 107 us
// of 50 sleeps of 10 us, measured on the 2-vCPU dev VM with the default 50 us timer slack),
// so holds and rate waits below kSpinBelow spin on the clock; longer ones sleep in slices of
// at most kSleepSlice until kSleepMargin before the deadline and spin only the rest. Every
// wait, holds included, ends early on a stop request (issue 15 item 8: a 10-minute hold
// ignored Ctrl-C for 10 minutes).
#pragma once

#include <atomic>
#include <chrono>

#include "common/duration.hpp"

namespace gpc {

inline constexpr Nanos kSpinBelow{200'000};
inline constexpr Nanos kSleepMargin{150'000};
inline constexpr Nanos kSleepSlice{10'000'000};  // how late a sleeping wait sees a stop request

// Returns when `deadline` has passed (true) or a stop was requested first (false).
bool wait_until(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>* stop_flag = nullptr);
// A hold of `d` between range_start and range_end. A stop request cuts it short (returns
// false); the caller still calls range_end, so the notifier bracket always closes.
bool hold_for(Nanos d, const std::atomic<bool>* stop_flag = nullptr);

// Refuses (UsageError, exit 2) a hold that cannot fit in a run of `duration` or in a
// refresh's bound (`refresh_bound`, 0: none): a refresh that met such a hold would wait out
// the run or starve, and the run would end on a timeout instead of a measurement. `flag`
// names the option in the message.
void check_hold_fits(Nanos hold, Nanos duration, Nanos refresh_bound = Nanos(0), const char* flag = "--hold");

}  // namespace gpc
