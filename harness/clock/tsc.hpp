// Reading the time-stamp counter inline (a few ns, no syscall, no vDSO call).
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#else
#include <time.h>
#endif

namespace gpc {

// Raw TSC. Not ordered against surrounding loads/stores; use rdtscp() where the
// measured code must have retired first.
inline uint64_t rdtsc() {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
#endif
}

// TSC read that waits for earlier instructions to complete.
inline uint64_t rdtscp() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned aux;
  return __rdtscp(&aux);
#else
  return rdtsc();
#endif
}

}  // namespace gpc
