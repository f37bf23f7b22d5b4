// The two instruments every measurement uses.
//  - histogram/record: Histogram::record of varying values; `allocs_per_op` counts global
//    operator new calls during the loop (goal: 0). Floor: one increment of a plain
//    counter array indexed by the same values.
//  - clock/tsc_now_ns (TscClock::now_ns: rdtsc + fixed-point scaling) and clock/rdtsc
//    (the raw read); floor: clock_gettime(CLOCK_MONOTONIC) through the vDSO.
#include <time.h>

#include <array>

#include "alloc_counter.hpp"
#include "clock/tsc.hpp"
#include "clock/tsc_clock.hpp"
#include "common/histogram.hpp"
#include "floors.hpp"
#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

// Latency-like values spread over many buckets (a 64-entry table walked in order, so
// the value sequence costs the same in the floor and in the histogram).
const std::array<uint64_t, 64>& values() {
  static const std::array<uint64_t, 64> v = [] {
    std::array<uint64_t, 64> a{};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (auto& e : a) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      e = 50 + (x % 200'000);
    }
    return a;
  }();
  return v;
}

double plain_array_ns(uint64_t iters) {
  std::array<uint64_t, 64> counts{};
  const auto& v = values();
  const uint64_t t0 = LoopTimer::thread_cpu_ns();
  for (uint64_t i = 0; i < iters; ++i) {
    ++counts[v[i & 63] & 63];
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(counts);
  return static_cast<double>(LoopTimer::thread_cpu_ns() - t0) /
         static_cast<double>(iters);
}

void BM_floor_array_increment(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  std::array<uint64_t, 64> counts{};
  const auto& v = values();
  uint64_t i = 0;
  LoopTimer t;
  t.start();
  for (auto _ : state) {
    ++counts[v[i++ & 63] & 63];
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(counts);
  finish_floor(state, "array_increment", t.ns_per_op(state));
}

void BM_histogram_record(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  Histogram h;
  const auto& v = values();
  uint64_t i = 0;
  const uint64_t allocs0 = allocations();
  LoopTimer t;
  t.start();
  for (auto _ : state) {
    h.record(v[i++ & 63]);
    benchmark::ClobberMemory();
  }
  const double ns = t.ns_per_op(state);
  const uint64_t allocs = allocations() - allocs0;
  benchmark::DoNotOptimize(h.count());
  state.counters["allocs_per_op"] =
      state.iterations() ? static_cast<double>(allocs) / static_cast<double>(state.iterations()) : 0.0;
  if (h.count() != static_cast<uint64_t>(state.iterations())) state.SkipWithError("the histogram lost samples");
  finish_vs_floor(state, "array_increment", ns, [] { return plain_array_ns(1'000'000); });
}

double clock_gettime_ns(uint64_t iters) {
  timespec ts;
  const uint64_t t0 = LoopTimer::thread_cpu_ns();
  for (uint64_t i = 0; i < iters; ++i) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
  return static_cast<double>(LoopTimer::thread_cpu_ns() - t0) /
         static_cast<double>(iters);
}

void BM_floor_clock_gettime(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  timespec ts;
  LoopTimer t;
  t.start();
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
  finish_floor(state, "clock_gettime", t.ns_per_op(state));
}

void BM_tsc_now_ns(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  const TscClock& clock = TscClock::instance();
  LoopTimer t;
  t.start();
  for (auto _ : state) benchmark::DoNotOptimize(clock.now_ns());
  const double ns = t.ns_per_op(state);
  state.SetLabel(clock.source());
  finish_vs_floor(state, "clock_gettime", ns, [] { return clock_gettime_ns(1'000'000); });
}

void BM_rdtsc(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  LoopTimer t;
  t.start();
  for (auto _ : state) benchmark::DoNotOptimize(rdtsc());
  finish_vs_floor(state, "clock_gettime", t.ns_per_op(state), [] { return clock_gettime_ns(1'000'000); });
}

BENCHMARK(BM_floor_array_increment)->Name("floor/array_increment");
BENCHMARK(BM_histogram_record)->Name("histogram/record");
BENCHMARK(BM_floor_clock_gettime)->Name("floor/clock_gettime_monotonic");
BENCHMARK(BM_tsc_now_ns)->Name("clock/tsc_now_ns");
BENCHMARK(BM_rdtsc)->Name("clock/rdtsc");

}  // namespace
}  // namespace gpc::bench
