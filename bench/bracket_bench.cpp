// The invalidation bracket: how long an mremap step takes from its invalidate_range_start
// call to the return of its invalidate_range_end, while a writer thread uses the embedded
// pfn cache on the page (the situation of `run cache --invalidator mremap --rate 1000`:
// isolated collisions, no co-runner). Beside it, the same harness step on the same kind of
// memory with no model and no writer (`floor/bracket_bare/mremap`). The length of this
// bracket is what a waiting refresh waits for, so it decides spin against block: the
// model must not lengthen it much beyond the bare operation (goal: p50 within 2x).
//
// Manual time = the bracket of each step (steady clock, wall time: lock waits and
// preemption inside the bracket are what a waiter sees). Steps are 1 ms apart (not
// timed), as `--rate 1000`. Counters: p50/p99 of the bracket, `op_p50_ns` (the memory
// operation alone: copy + mremap, which mmap_lock contention with the writer's resolves
// slows) and `hooks_p50_ns` (bracket minus operation: range_start + range_end, where the
// notifier walk, lock waits and wake-ups are), the writer's refreshes and resolves per
// step, and `p50_vs_floor` (= `vs_floor`) against the bare bracket's p50. A second floor,
// `floor/bracket_bare/mremap/neighbour:spin`, runs the bare step while a thread spins with
// pause on the other PU: on this machine (two vCPUs of a nested guest) any busy neighbour
// PU, even another process, makes the step ~3x longer, so a spinning waiter lengthens
// the bracket by the machine's effect, not the model's; `p50_vs_spin_floor` is the ratio
// to that floor. Attribution of
// the wall time: `step_cpu_p50_ns` and `step_cpu_mean_ns` are the invalidator thread's CPU
// time per whole step (CLOCK_THREAD_CPUTIME_ID), `sleeps_per_step` its voluntary context switches (it slept:
// mmap_lock, a futex) and `preempted_per_step` its involuntary ones (another task took
// its PU), from getrusage(RUSAGE_THREAD) around each step.
#include <sys/resource.h>
#include <time.h>
#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/histogram.hpp"
#include "floors.hpp"
#include "invalidators/invalidator.hpp"
#include "memory/memfd_region.hpp"
#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_resolver.hpp"
#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

constexpr auto kStepGap = std::chrono::milliseconds(1);  // --rate 1000
const std::string kFloorKey = "bracket_bare/mremap";
const std::string kSpinFloorKey = "bracket_bare/mremap/neighbour:spin";

// A thread that spins with pause on `pu` while it lives: the busy neighbour of the spin floor.
class NeighbourSpinner {
 public:
  explicit NeighbourSpinner(int pu) {
    thread_ = std::thread([this, pu] {
      PinningScope pin(pu);
      while (!stop_.load(std::memory_order_relaxed)) _mm_pause();
    });
  }
  ~NeighbourSpinner() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void sleep_for(std::chrono::nanoseconds d) {
  timespec ts{static_cast<time_t>(d.count() / 1'000'000'000), static_cast<long>(d.count() % 1'000'000'000)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

std::unique_ptr<MemfdRegion> make_region() {
  return std::make_unique<MemfdRegion>(RegionOptions{.size = kHugePageSize, .spare_pages = 4});
}

struct Brackets {
  Histogram bracket, op, hooks, cpu;
  uint64_t sleeps = 0, preempted = 0, steps = 0;
  void add(const StepResult& r) {
    bracket.record(r.bracket_ns);
    op.record(r.op_ns);
    hooks.record(r.bracket_ns > r.op_ns ? r.bracket_ns - r.op_ns : 0);
    ++steps;
  }
};

struct ThreadUsage {
  uint64_t cpu_ns = 0;
  long voluntary = 0, involuntary = 0;
  static ThreadUsage now() {
    ThreadUsage u;
    u.cpu_ns = LoopTimer::thread_cpu_ns();
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    u.voluntary = ru.ru_nvcsw;
    u.involuntary = ru.ru_nivcsw;
    return u;
  }
};

// Runs the benchmark loop: one step per iteration, its bracket as the iteration's time.
Brackets step_loop(benchmark::State& state, Invalidator& inv) {
  Brackets b;
  for (auto _ : state) {
    const ThreadUsage u0 = ThreadUsage::now();
    const StepResult r = inv.step();
    const ThreadUsage u1 = ThreadUsage::now();
    b.cpu.record(u1.cpu_ns - u0.cpu_ns);
    b.sleeps += static_cast<uint64_t>(u1.voluntary - u0.voluntary);
    b.preempted += static_cast<uint64_t>(u1.involuntary - u0.involuntary);
    b.add(r);
    state.SetIterationTime(static_cast<double>(r.bracket_ns) * 1e-9);
    state.PauseTiming();
    sleep_for(kStepGap);
    state.ResumeTiming();
  }
  return b;
}

void report(benchmark::State& state, const Brackets& b) {
  state.counters["p50_ns"] = static_cast<double>(b.bracket.quantile(0.5));
  state.counters["p99_ns"] = static_cast<double>(b.bracket.quantile(0.99));
  state.counters["op_p50_ns"] = static_cast<double>(b.op.quantile(0.5));
  state.counters["hooks_p50_ns"] = static_cast<double>(b.hooks.quantile(0.5));
  const double steps = static_cast<double>(b.steps ? b.steps : 1);
  state.counters["step_cpu_p50_ns"] = static_cast<double>(b.cpu.quantile(0.5));
  state.counters["step_cpu_mean_ns"] = b.cpu.mean();
  state.counters["sleeps_per_step"] = static_cast<double>(b.sleeps) / steps;
  state.counters["preempted_per_step"] = static_cast<double>(b.preempted) / steps;
}

// The bare step's p50 bracket, measured here when the floor benchmark was filtered out.
double measure_bare_p50(bool spinning_neighbour) {
  std::unique_ptr<NeighbourSpinner> neighbour;
  if (spinning_neighbour) neighbour = std::make_unique<NeighbourSpinner>(spread_pu(1));
  auto region = make_region();
  auto inv = make_invalidator(InvalidatorType::mremap, *region, {.verify = false});
  Histogram h;
  for (int i = 0; i < 200; ++i) {
    h.record(inv->step().bracket_ns);
    sleep_for(kStepGap);
  }
  return static_cast<double>(h.quantile(0.5));
}

void BM_bracket_bare(benchmark::State& state, bool spinning_neighbour) {
  try {
    PinningScope pin(spread_pu(0));
    std::unique_ptr<NeighbourSpinner> neighbour;
    if (spinning_neighbour) neighbour = std::make_unique<NeighbourSpinner>(spread_pu(1));
    auto region = make_region();
    auto inv = make_invalidator(InvalidatorType::mremap, *region, {.verify = false});
    const Brackets b = step_loop(state, *inv);
    report(state, b);
    const double p50 = static_cast<double>(b.bracket.quantile(0.5));
    Floors::record(spinning_neighbour ? kSpinFloorKey : kFloorKey, p50, state.iterations());
    state.counters["floor_ns"] = p50;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// A vCPU-like user of the cache on its own PU: use it while valid, refresh when not.
class Writer {
 public:
  Writer(pfncache::Gpc& gpc, pfncache::ContractChecker& checker, int pu) : gpc_(gpc), checker_(checker) {
    thread_ = std::thread([this, pu] { run(pu); });
  }
  ~Writer() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  uint64_t failures() const { return failures_.load(); }

 private:
  void run(int pu) {
    PinningScope pin(pu);
    for (uint64_t n = 1; !stop_.load(std::memory_order_relaxed); ++n) {
      {
        auto g = gpc_.read_lock();
        if (g && gpc_.check(8)) {
          checker_.write_u64(gpc_, 0, n);
          continue;
        }
      }
      if (gpc_.refresh(8) != pfncache::RefreshResult::kOk) failures_.fetch_add(1);
    }
  }
  pfncache::Gpc& gpc_;
  pfncache::ContractChecker& checker_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> failures_{0};
  std::thread thread_;
};

void BM_bracket_model(benchmark::State& state, pfncache::WaitKind wait) {
  try {
    PinningScope pin(spread_pu(0));
    auto region = make_region();
    pfncache::Policy policy;
    policy.wait = wait;
    pfncache::NotifierState vm(policy);
    pfncache::MemfdResolver resolver(*region);
    pfncache::ContractChecker checker(vm, region.get());
    pfncache::Gpc gpc(vm, resolver);
    if (gpc.activate(region->hva(), 8) != pfncache::RefreshResult::kOk) {
      state.SkipWithError("activating the cache on the memfd page failed");
      return;
    }
    InvalidatorConfig cfg;
    cfg.listener = &vm;
    cfg.verify = false;
    auto inv = make_invalidator(InvalidatorType::mremap, *region, cfg);
    Brackets b;
    pfncache::GpcStats before, after;
    {
      Writer writer(gpc, checker, spread_pu(1));
      before = gpc.stats();
      b = step_loop(state, *inv);
      after = gpc.stats();
      writer.stop();
      if (writer.failures() > 0) state.SkipWithError("a refresh failed during the run");
    }
    gpc.deactivate();
    report(state, b);
    const double steps = static_cast<double>(state.iterations() ? state.iterations() : 1);
    state.counters["refreshes_per_step"] = static_cast<double>(after.refreshes - before.refreshes) / steps;
    state.counters["resolves_per_step"] = static_cast<double>(after.hva_to_pfn - before.hva_to_pfn) / steps;
    state.counters["violations"] = static_cast<double>(checker.stats().violations());
    const double floor = Floors::get_or_measure(kFloorKey, [] { return measure_bare_p50(false); });
    const double spin_floor = Floors::get_or_measure(kSpinFloorKey, [] { return measure_bare_p50(true); });
    const double p50 = static_cast<double>(b.bracket.quantile(0.5));
    const double ratio = floor > 0 ? p50 / floor : 0.0;
    state.counters["spin_floor_ns"] = spin_floor;
    state.counters["p50_vs_spin_floor"] = spin_floor > 0 ? p50 / spin_floor : 0.0;
    state.counters["floor_ns"] = floor;
    state.counters["p50_vs_floor"] = ratio;
    state.counters["vs_floor"] = ratio;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

const bool registered = [] {
  benchmark::RegisterBenchmark("floor/bracket_bare/mremap", BM_bracket_bare, false)->UseManualTime();
  benchmark::RegisterBenchmark("floor/bracket_bare/mremap/neighbour:spin", BM_bracket_bare, true)->UseManualTime();
  for (pfncache::WaitKind w : {pfncache::WaitKind::kBusy, pfncache::WaitKind::kSpin, pfncache::WaitKind::kHaltPoll,
                               pfncache::WaitKind::kBlock}) {
    const std::string name = "bracket/mremap/strategy:" + std::string(pfncache::to_string(w));
    benchmark::RegisterBenchmark(name.c_str(), BM_bracket_model, w)->UseManualTime();
  }
  return true;
}();

}  // namespace
}  // namespace gpc::bench
