// Floors: the cost of the bare mechanism a benchmark is judged against, measured once
// per process. A floor benchmark records its ns/op here (the mean over its threads, from
// its final run); its paired benchmark reads
// it and reports `floor_ns` and `vs_floor` (own ns/op divided by the floor) as counters.
// When the floor benchmark was filtered out, the pair measures the floor itself once
// through the fallback it passes, so the ratio is never missing or stale.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace gpc::bench {

class Floors {
 public:
  static void record(const std::string& key, double ns_per_op);
  // The recorded floor, or `measure()` run once and remembered.
  static double get_or_measure(const std::string& key, const std::function<double()>& measure);
};

// Wall time of a benchmark loop, for ns/op figures that floor and pair compute alike
// (the loop overhead of Google Benchmark is in both).
class LoopTimer {
 public:
  void start() { t0_ = std::chrono::steady_clock::now(); }
  double ns_per_op(const benchmark::State& state) const {
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0_).count();
    return state.iterations() ? ns / static_cast<double>(state.iterations()) : 0.0;
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

// A floor benchmark's ending: thread 0 records `ns_per_op` under `key`; every thread
// reports it as `floor_ns` (averaged over threads).
void finish_floor(benchmark::State& state, const std::string& key, double ns_per_op);
// A paired benchmark's ending: `floor_ns` and `vs_floor` (ns_per_op / floor), both
// averaged over threads.
void finish_vs_floor(benchmark::State& state, const std::string& key, double ns_per_op,
                     const std::function<double()>& measure_floor);

// ns/op of `body` run `iters` times on each of `threads` threads started together (the
// mean over threads); thread i is pinned as benchmark thread i would be.
double measure_threads(int threads, uint64_t iters, const std::function<void()>& body);

}  // namespace gpc::bench
