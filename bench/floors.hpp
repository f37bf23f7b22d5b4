// Floors: the cost of the bare mechanism a benchmark is judged against, measured once
// per process. A floor benchmark records its ns/op here (the mean over its threads; the
// floor is the median over its repetitions); its paired benchmark reads it and reports `floor_ns` and `vs_floor` (own ns/op divided by the floor) as counters.
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
  static void record(const std::string& key, double ns_per_op, int64_t iterations);
  // The recorded floor, or `measure()` run once and remembered.
  static double get_or_measure(const std::string& key, const std::function<double()>& measure);
};

// CPU time of the calling thread over a benchmark loop (CLOCK_THREAD_CPUTIME_ID), for
// the ns/op that floor and pair compare. CPU time, not wall time: the machines this runs
// on are shared (other builds keep 4+ tasks runnable per PU here), and wall time then
// counts the time a runnable thread waited for a CPU, in bursts that differ between the
// two sides of a pair. For CPU-bound loops on an idle machine the two agree; Google
// Benchmark's own Time column stays wall time. Syscalls and guest time (KVM_RUN) are CPU
// time of the thread, so invalidators and vCPU exits are measured in full.
class LoopTimer {
 public:
  void start() { t0_ = thread_cpu_ns(); }
  double ns_per_op(const benchmark::State& state) const {
    const double ns = static_cast<double>(thread_cpu_ns() - t0_);
    return state.iterations() ? ns / static_cast<double>(state.iterations()) : 0.0;
  }
  static uint64_t thread_cpu_ns();

 private:
  uint64_t t0_ = 0;
};

// A floor benchmark's ending: records the mean of its threads' `ns_per_op` under `key`;
// every thread reports its own as `floor_ns` (averaged over threads).
void finish_floor(benchmark::State& state, const std::string& key, double ns_per_op);
// A paired benchmark's ending: `floor_ns` and `vs_floor` (ns_per_op / floor), both
// averaged over threads.
void finish_vs_floor(benchmark::State& state, const std::string& key, double ns_per_op,
                     const std::function<double()>& measure_floor);

// ns/op of `body` run `iters` times on each of `threads` threads started together (the
// mean over threads); thread i is pinned as benchmark thread i would be.
double measure_threads(int threads, uint64_t iters, const std::function<void()>& body);

}  // namespace gpc::bench
