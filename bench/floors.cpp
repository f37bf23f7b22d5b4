#include "floors.hpp"

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
std::map<std::string, double>& table() {
  static std::map<std::string, double> t;
  return t;
}

}  // namespace

void Floors::record(const std::string& key, double ns_per_op) {
  std::lock_guard lock(table_mu());
  table()[key] = ns_per_op;
}

double Floors::get_or_measure(const std::string& key, const std::function<double()>& measure) {
  {
    std::lock_guard lock(table_mu());
    if (auto it = table().find(key); it != table().end()) return it->second;
  }
  const double ns = measure();  // outside the lock: it may start threads
  std::lock_guard lock(table_mu());
  return table().emplace(key, ns).first->second;
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
      table()[key] = p.sum / p.n;
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
      const auto t0 = std::chrono::steady_clock::now();
      for (uint64_t i = 0; i < iters; ++i) body();
      ns[static_cast<size_t>(t)] =
          std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
          static_cast<double>(iters);
    });
  }
  for (auto& th : pool) th.join();
  double sum = 0;
  for (double v : ns) sum += v;
  return sum / threads;
}

}  // namespace gpc::bench
