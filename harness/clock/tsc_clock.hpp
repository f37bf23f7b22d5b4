// A cheap nanosecond clock for latency measurement: the TSC, calibrated against
// CLOCK_MONOTONIC, when the CPU says it is invariant (constant_tsc: fixed rate across
// frequency changes; nonstop_tsc: keeps ticking in deep C-states). Otherwise it falls back
// to CLOCK_MONOTONIC and says so, because a drifting TSC would corrupt every latency.
#pragma once

#include <cstdint>
#include <set>
#include <string>

namespace gpc {

class TscClock {
 public:
  // The process-wide clock, calibrated on first use (~20 ms).
  static const TscClock& instance();
  // A fresh calibration; with use_tsc=false (or a non-invariant TSC) it is CLOCK_MONOTONIC.
  static TscClock calibrate(bool use_tsc = true);

  // Raw ticks: TSC cycles, or nanoseconds when the fallback is active.
  uint64_t now_ticks() const;
  // Nanoseconds on the CLOCK_MONOTONIC time line.
  uint64_t now_ns() const;
  // Converts a tick difference to nanoseconds.
  double ticks_to_ns(uint64_t ticks) const { return static_cast<double>(ticks) / ticks_per_ns_; }
  double ticks_per_ns() const { return ticks_per_ns_; }
  bool invariant() const { return invariant_; }  // the CPU reports an invariant TSC
  const char* source() const { return use_tsc_ ? "TSC" : "CLOCK_MONOTONIC"; }
  // Why this source: e.g. "invariant TSC (constant_tsc nonstop_tsc), 2.4454 ticks/ns".
  const std::string& why() const { return why_; }

  // Whether these /proc/cpuinfo flags promise an invariant TSC; `missing` gets the
  // absent flags (space-separated).
  static bool invariant_from_flags(const std::set<std::string>& flags, std::string* missing);

 private:
  TscClock() = default;

  bool use_tsc_ = false;
  bool invariant_ = false;
  double ticks_per_ns_ = 1.0;
  uint64_t base_ticks_ = 0;
  uint64_t base_ns_ = 0;
  uint64_t ns_per_tick_q32_ = uint64_t{1} << 32;  // ns per tick in 32.32 fixed point
  std::string why_;
};

// CLOCK_MONOTONIC in nanoseconds.
uint64_t monotonic_ns();

}  // namespace gpc
