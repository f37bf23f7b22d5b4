#include "floors.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

std::mutex& table_mu() {
  static std::mutex mu;
  return mu;
}
// Every recorded (iterations, ns/op) per key. Google Benchmark calls a benchmark several
// times: short runs that size the iteration count, then one run per repetition with the
// final count. The floor is the median over the runs with the largest iteration count,
// i.e. over the repetitions, robust to one that a burst of load hit.
struct Sample {
  int64_t iterations;
  double ns;
};
std::map<std::string, std::vector<Sample>>& table() {
  static std::map<std::string, std::vector<Sample>> t;
  return t;
}

double floor_of(const std::vector<Sample>& samples) {
  int64_t most = 0;
  for (const Sample& s : samples) most = std::max(most, s.iterations);
  std::vector<double> v;
  for (const Sample& s : samples)
    if (s.iterations == most) v.push_back(s.ns);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace

void Floors::record(const std::string& key, double ns_per_op, int64_t iterations) {
  std::lock_guard lock(table_mu());
  table()[key].push_back({iterations, ns_per_op});
}

double Floors::get_or_measure(const std::string& key, const std::function<double()>& measure) {
  {
    std::lock_guard lock(table_mu());
    if (auto it = table().find(key); it != table().end() && !it->second.empty()) return floor_of(it->second);
  }
  const double ns = measure();  // outside the lock: it may start threads
  std::lock_guard lock(table_mu());
  auto& v = table()[key];
  if (v.empty()) v.push_back({1, ns});
  return floor_of(v);
}

// Per-thread ns/op of a floor run in progress; the last thread to finish records the mean.
struct Partial {
  double sum = 0;
  int n = 0;
};
std::map<std::string, Partial>& partials() {
  static std::map<std::string, Partial> p;
  return p;
}

void finish_floor(benchmark::State& state, const std::string& key, double ns_per_op) {
  {
    std::lock_guard lock(table_mu());
    Partial& p = partials()[key];
    p.sum += ns_per_op;
    if (++p.n == state.threads()) {
      table()[key].push_back({state.iterations(), p.sum / p.n});
      partials().erase(key);
    }
  }
  state.counters["floor_ns"] = benchmark::Counter(ns_per_op, benchmark::Counter::kAvgThreads);
}

void finish_vs_floor(benchmark::State& state, const std::string& key, double ns_per_op,
                     const std::function<double()>& measure_floor) {
  const double floor = Floors::get_or_measure(key, measure_floor);
  state.counters["floor_ns"] = benchmark::Counter(floor, benchmark::Counter::kAvgThreads);
  state.counters["vs_floor"] =
      benchmark::Counter(floor > 0 ? ns_per_op / floor : 0.0, benchmark::Counter::kAvgThreads);
}

uint64_t LoopTimer::thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

double measure_threads(int threads, uint64_t iters, const std::function<void()>& body) {
  std::vector<double> ns(static_cast<size_t>(threads));
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      PinningScope pin(spread_pu(t));
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      const uint64_t t0 = LoopTimer::thread_cpu_ns();
      for (uint64_t i = 0; i < iters; ++i) body();
      ns[static_cast<size_t>(t)] =
          static_cast<double>(LoopTimer::thread_cpu_ns() - t0) / static_cast<double>(iters);
    });
  }
  for (auto& th : pool) th.join();
  double sum = 0;
  for (double v : ns) sum += v;
  return sum / threads;
}

}  // namespace gpc::bench
