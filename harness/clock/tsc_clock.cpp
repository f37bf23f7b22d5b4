#include "clock/tsc_clock.hpp"

#include <time.h>

#include <fmt/format.h>

#include "clock/cpu_flags.hpp"
#include "clock/tsc.hpp"

namespace gpc {
namespace {

struct Pair {
  uint64_t ticks;
  uint64_t ns;
};

// A (TSC, CLOCK_MONOTONIC) pair read as close together as possible: the monotonic read is
// bracketed by two TSC reads and the tightest of several tries wins, so an interrupt
// between the reads cannot skew the calibration.
Pair read_pair() {
  Pair best{0, 0};
  uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 16; ++i) {
    const uint64_t t0 = rdtscp();
    const uint64_t ns = monotonic_ns();
    const uint64_t t1 = rdtscp();
    if (t1 - t0 < best_gap) {
      best_gap = t1 - t0;
      best = {t0 + (t1 - t0) / 2, ns};
    }
  }
  return best;
}

}  // namespace

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

bool TscClock::invariant_from_flags(const std::set<std::string>& flags, std::string* missing) {
  std::string absent;
  for (const char* f : {"tsc", "constant_tsc", "nonstop_tsc"})
    if (!flags.count(f)) absent += absent.empty() ? f : fmt::format(" {}", f);
  if (missing) *missing = absent;
  return absent.empty();
}

const TscClock& TscClock::instance() {
  static const TscClock clock = calibrate(true);
  return clock;
}

TscClock TscClock::calibrate(bool use_tsc) {
  TscClock c;
  std::string missing;
  c.invariant_ = invariant_from_flags(read_cpu_flags(), &missing);
  if (!c.invariant_) {
    c.why_ = fmt::format("TSC not invariant (no {} in /proc/cpuinfo flags)", missing);
    return c;
  }
  if (!use_tsc) {
    c.why_ = "TSC not requested";
    return c;
  }
  const Pair a = read_pair();
  const timespec wait{0, 20'000'000};
  nanosleep(&wait, nullptr);
  const Pair b = read_pair();
  if (b.ns <= a.ns || b.ticks <= a.ticks) {
    c.why_ = "TSC did not advance during calibration";
    return c;
  }
  c.use_tsc_ = true;
  c.ticks_per_ns_ = static_cast<double>(b.ticks - a.ticks) / static_cast<double>(b.ns - a.ns);
  c.base_ticks_ = b.ticks;
  c.base_ns_ = b.ns;
  c.ns_per_tick_q32_ = static_cast<uint64_t>((1.0 / c.ticks_per_ns_) * 4294967296.0);
  c.why_ = fmt::format("invariant TSC (constant_tsc nonstop_tsc), {:.4f} ticks/ns calibrated "
                       "against CLOCK_MONOTONIC",
                       c.ticks_per_ns_);
  return c;
}

uint64_t TscClock::now_ticks() const { return use_tsc_ ? rdtsc() : monotonic_ns(); }

uint64_t TscClock::now_ns() const {
  if (!use_tsc_) return monotonic_ns();
  // 128-bit fixed point keeps full precision for any uptime.
  const __int128 delta = static_cast<__int128>(static_cast<int64_t>(rdtsc() - base_ticks_));
  return static_cast<uint64_t>(static_cast<__int128>(base_ns_) +
                               ((delta * static_cast<__int128>(ns_per_tick_q32_)) >> 32));
}

}  // namespace gpc
