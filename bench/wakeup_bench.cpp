// Wake-up latency of each waiting strategy: from invalidate_range_end to the refreshing
// thread running again, measured with the TSC (manual time). The invalidator thread
// holds an invalidation of the cache's page open while the waiter refreshes (and waits),
// stamps rdtsc just before range_end; the waiter stamps in the resolver's hva_to_pfn,
// which a refresh calls as soon as its wait is over (the last call of the refresh is the
// one after the wait; busy's earlier calls are its retries). Floors at the same
// placement: a futex wake->run and a spin on a cache line, with the same protocol.
// Placement: same PU (both threads on the first allowed PU) or cross-core (first two).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "clock/tsc.hpp"
#include "clock/tsc_clock.hpp"
#include "floors.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_region.hpp"
#include "pfncache/test_resolver.hpp"
#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

// How long the invalidation stays open before range_end, after which the waker also
// polls ready(): enough for a waiter on the same PU to run and settle into its wait (a
// futex sleep takes ~1 µs here) without making each round long.
constexpr auto kHold = std::chrono::microseconds(30);

long futex(std::atomic<uint32_t>* word, int op, uint32_t val, const timespec* timeout = nullptr) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, val, timeout, nullptr, 0);
}

void sleep_for(std::chrono::nanoseconds d) {
  timespec ts{0, static_cast<long>(d.count())};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// The waking side on its own pinned thread. Each round: wait for the waiter's go, arm()
// (e.g. range_start), publish `armed`, hold, wait for ready() (bounded), stamp, release().
class Waker {
 public:
  static constexpr int64_t kFailed = INT64_MIN;
  struct Ops {
    std::function<void()> arm;
    std::function<bool()> ready;  // the waiter is in its wait (where that is observable)
    std::function<void()> release;
  };
  Waker(int pu, Ops ops) : ops_(std::move(ops)) {
    thread_ = std::thread([this, pu] {
      try {
        PinningScope pin(pu);
        loop();
      } catch (...) {
        // Release a waiter blocked on either handshake; it sees failed_ and stops.
        failed_.store(true);
        armed_.store(1);
        armed_.notify_all();
        done_.fetch_add(1);
        done_.notify_all();
      }
    });
  }
  ~Waker() {
    quit_.store(true);
    go_.fetch_add(1);
    go_.notify_all();
    thread_.join();
  }
  // One round seen from the waiter: start it, wait until armed, then run `wait_fn`,
  // which returns the TSC stamp taken when the waiter runs again. Returns the ticks from
  // the waker's stamp to the waiter's, or kFailed if the waking thread failed.
  int64_t round(const std::function<uint64_t()>& wait_fn) {
    armed_.store(0);
    go_.fetch_add(1);
    go_.notify_all();
    armed_.wait(0);
    if (failed_.load()) return kFailed;
    const uint64_t woke = wait_fn();
    done_.wait(round_done_seen_);  // the waker has returned from release()
    round_done_seen_ = done_.load();
    return static_cast<int64_t>(woke) - static_cast<int64_t>(stamp_.load());
  }

 private:
  void loop() {
    uint32_t seen = 0;
    for (;;) {
      go_.wait(seen);
      seen = go_.load();
      if (quit_.load()) return;
      ops_.arm();
      armed_.store(1);
      armed_.notify_all();
      sleep_for(kHold);
      for (int i = 0; i < 1000 && !ops_.ready(); ++i) sleep_for(std::chrono::microseconds(10));
      stamp_.store(rdtsc());
      ops_.release();
      done_.fetch_add(1);
      done_.notify_all();
    }
  }

  Ops ops_;
  std::atomic<uint32_t> go_{0}, armed_{0}, done_{0};
  uint32_t round_done_seen_ = 0;
  std::atomic<uint64_t> stamp_{0};
  std::atomic<bool> quit_{false}, failed_{false};
  std::thread thread_;
};

// Waiter on spread_pu(0); waker on the same PU or on spread_pu(1).
int waker_pu(bool cross) { return cross ? spread_pu(1) : spread_pu(0); }

// Cross-core needs two PUs this process may use; false (and the benchmark skipped) if not.
bool placement_possible(benchmark::State& state, bool cross) {
  if (cross && allowed_pus().size() < 2) {
    state.SkipWithError("cross-core placement needs 2 allowed PUs; this process may use 1 (see taskset/cgroup)");
    return false;
  }
  return true;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

struct Latency {
  double mean_ns = -1;
  double p50_ns = -1;
};

// Runs the rounds of one benchmark with manual time; mean_ns < 0 when it failed.
Latency run_rounds(benchmark::State& state, Waker& waker, const std::function<uint64_t()>& wait_fn) {
  const double tpn = TscClock::instance().ticks_per_ns();
  double total_ns = 0;
  uint64_t negative = 0;
  std::vector<double> each;  // for the median: this machine's load makes the mean noisy
  each.reserve(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    const int64_t ticks = waker.round(wait_fn);
    if (ticks == Waker::kFailed) {
      state.SkipWithError("the waking thread failed (pinning?)");
      return {};
    }
    if (ticks < 0) ++negative;  // the waiter ran before the stamp: counted, timed as 0
    const double ns = ticks > 0 ? static_cast<double>(ticks) / tpn : 0.0;
    total_ns += ns;
    each.push_back(ns);
    state.SetIterationTime(ns * 1e-9);
  }
  state.counters["early_wakeups"] = static_cast<double>(negative);
  Latency l;
  l.mean_ns = state.iterations() ? total_ns / static_cast<double>(state.iterations()) : 0.0;
  l.p50_ns = median(each);
  state.counters["p50_ns"] = l.p50_ns;
  return l;
}

std::string floor_key(const char* kind, bool cross) { return std::string(kind) + (cross ? "/cross" : "/same"); }

// ---- floors ----------------------------------------------------------------------------

// Round r releases the waiter by raising the word to r, so a release that lands before
// the waiter reaches its wait is seen, never waited for forever.
struct FutexFloor {
  std::atomic<uint32_t> word{0};
  std::atomic<uint32_t> sleeping{0};
  uint32_t expect = 0;
  // With a timeout, like the block strategy's bounded sleep (Policy::block_slice, 20 ms):
  // the kernel arms and cancels an hrtimer around the sleep.
  bool with_timeout = false;
  Waker::Ops ops() {
    return {[] {}, [this] { return sleeping.load() != 0; },
            [this] {
              word.fetch_add(1);
              futex(&word, FUTEX_WAKE_PRIVATE, 1);
            }};
  }
  uint64_t wait() {
    ++expect;
    sleeping.store(1);
    const timespec slice{0, 20'000'000};
    for (uint32_t w; (w = word.load()) < expect;) futex(&word, FUTEX_WAIT_PRIVATE, w, with_timeout ? &slice : nullptr);
    const uint64_t t = rdtsc();
    sleeping.store(0);
    return t;
  }
};

struct SpinFloor {
  alignas(64) std::atomic<uint32_t> flag{0};
  alignas(64) std::atomic<uint32_t> spinning{0};
  uint32_t expect = 0;
  Waker::Ops ops() {
    return {[] {}, [this] { return spinning.load() != 0; },
            [this] { flag.fetch_add(1, std::memory_order_release); }};
  }
  uint64_t wait() {
    ++expect;
    spinning.store(1);
    while (flag.load(std::memory_order_acquire) < expect) _mm_pause();
    const uint64_t t = rdtsc();
    spinning.store(0);
    return t;
  }
};

// The floor measured outside Google Benchmark (when its benchmark was filtered out).
template <class Floor>
Latency floor_once(bool cross, int rounds) {
  PinningScope pin(spread_pu(0));
  Floor f;
  Waker w(waker_pu(cross), f.ops());
  const double tpn = TscClock::instance().ticks_per_ns();
  std::vector<double> each;
  for (int i = 0; i < rounds; ++i) {
    const int64_t ticks = w.round([&] { return f.wait(); });
    if (ticks == Waker::kFailed) throw std::runtime_error("the waking thread failed (pinning?)");
    each.push_back(static_cast<double>(std::max<int64_t>(0, ticks)) / tpn);
  }
  double sum = 0;
  for (double v : each) sum += v;
  return {sum / rounds, median(each)};
}

// Floors record mean and median; pairs report vs_floor (means) and p50_vs_floor.
void finish_wake_floor(benchmark::State& state, const std::string& key, const Latency& l) {
  finish_floor(state, key, l.mean_ns);
  Floors::record(key + "/p50", l.p50_ns, state.iterations());
  state.counters["floor_p50_ns"] = l.p50_ns;
}

template <class Floor>
void finish_wake_pair(benchmark::State& state, const std::string& key, bool cross, const Latency& l) {
  finish_vs_floor(state, key, l.mean_ns, [cross] { return floor_once<Floor>(cross, 200).mean_ns; });
  const double p50 = Floors::get_or_measure(key + "/p50", [cross] { return floor_once<Floor>(cross, 200).p50_ns; });
  state.counters["floor_p50_ns"] = p50;
  state.counters["p50_vs_floor"] = p50 > 0 ? l.p50_ns / p50 : 0.0;
}

void BM_floor_futex_wake(benchmark::State& state) {
  const bool cross = state.range(0) != 0;
  if (!placement_possible(state, cross)) return;
  const bool timeout = state.range(1) != 0;
  PinningScope pin(spread_pu(0));
  FutexFloor f;
  f.with_timeout = timeout;
  Waker w(waker_pu(cross), f.ops());
  const Latency l = run_rounds(state, w, [&] { return f.wait(); });
  // The goal's floor is the plain futex wake; the timed one is shown for attribution.
  if (l.mean_ns >= 0) finish_wake_floor(state, floor_key(timeout ? "futex_timeout" : "futex", cross), l);
}

void BM_floor_spin_wake(benchmark::State& state) {
  const bool cross = state.range(0) != 0;
  if (!placement_possible(state, cross)) return;
  PinningScope pin(spread_pu(0));
  SpinFloor f;
  // The waiter spins; its stamp comes after the flag moves. Same PU: the spinner holds
  // the CPU until the scheduler preempts it for the waker, so this floor is large.
  Waker w(waker_pu(cross), f.ops());
  const Latency l = run_rounds(state, w, [&] { return f.wait(); });
  if (l.mean_ns >= 0) finish_wake_floor(state, floor_key("spin", cross), l);
}

// ---- the strategies ----------------------------------------------------------------------

void BM_wakeup(benchmark::State& state) {
  const auto kind = static_cast<pfncache::WaitKind>(state.range(0));
  const bool cross = state.range(1) != 0;
  if (!placement_possible(state, cross)) return;
  PinningScope pin(spread_pu(0));
  pfncache::Policy p;
  p.wait = kind;
  pfncache::MemfdRegion region(1, 1);
  pfncache::TestResolver resolver(region.backing());
  pfncache::NotifierState vm(p);
  pfncache::Gpc gpc(vm, resolver);
  const uintptr_t hva = region.page_hva(0);
  if (gpc.activate(hva, 8) != pfncache::RefreshResult::kOk) {
    state.SkipWithError("activating the cache failed");
    return;
  }
  std::atomic<uint64_t> last_resolve{0};
  resolver.set_before([&](uint64_t, uintptr_t) { last_resolve.store(rdtsc(), std::memory_order_relaxed); });

  // Attribution: a second stamp where range_end has done its bookkeeping and is about to
  // drop the count and wake (the notifier's phase hook; ~ns per phase when installed).
  // `p50_from_drop_ns` is the wake-up without range_end's work before the wake.
  std::atomic<uint64_t> pre_drop{0};
  vm.set_test_hook([&](pfncache::NotifierPhase ph, uintptr_t, uintptr_t) {
    if (ph == pfncache::NotifierPhase::kEndCachesInvalidated) pre_drop.store(rdtsc(), std::memory_order_relaxed);
  });
  std::vector<double> from_drop;
  from_drop.reserve(static_cast<size_t>(state.max_iterations));
  const double tpn = TscClock::instance().ticks_per_ns();

  Waker::Ops ops;
  ops.arm = [&] { vm.invalidate_range_start(hva, hva + pfncache::kPageSize); };
  // block and haltpoll register on the wake word before they sleep; spin and busy
  // give no such sign: for them it is enough that the refresh has begun (plus the hold).
  std::atomic<bool> refreshing{false};
  ops.ready = [&] {
    if (kind == pfncache::WaitKind::kBlock || kind == pfncache::WaitKind::kHaltPoll)
      return vm.wake_word().waiters() != 0;
    return refreshing.load();
  };
  ops.release = [&] { vm.invalidate_range_end(hva, hva + pfncache::kPageSize); };
  Waker w(waker_pu(cross), ops);
  bool refresh_failed = false;
  const Latency l = run_rounds(state, w, [&] {
    refreshing.store(true);
    if (gpc.refresh(8) != pfncache::RefreshResult::kOk) refresh_failed = true;
    refreshing.store(false);
    const uint64_t t = last_resolve.load(std::memory_order_relaxed);
    from_drop.push_back(static_cast<double>(static_cast<int64_t>(t - pre_drop.load(std::memory_order_relaxed))) / tpn);
    return t;
  });
  if (l.mean_ns < 0) return;
  if (refresh_failed) {
    state.SkipWithError("a refresh did not complete");
    return;
  }
  state.counters["p50_from_drop_ns"] = median(from_drop);
  const auto st = gpc.stats();
  state.counters["sleeps"] = static_cast<double>(st.sleeps);
  state.counters["halt_poll_ns"] = gpc.halt_poll_ns();
  // The futex floor is the goal's reference for block and haltpoll (they sleep); spin
  // and busy are read against the spin ping-pong.
  const bool sleeps = kind == pfncache::WaitKind::kBlock || kind == pfncache::WaitKind::kHaltPoll;
  try {
    if (sleeps)
      finish_wake_pair<FutexFloor>(state, floor_key("futex", cross), cross, l);
    else
      finish_wake_pair<SpinFloor>(state, floor_key("spin", cross), cross, l);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

BENCHMARK(BM_floor_futex_wake)
    ->Name("floor/futex_wake")
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"cross", "timeout"})
    ->UseManualTime();
BENCHMARK(BM_floor_spin_wake)->Name("floor/spin_wake")->ArgsProduct({{0, 1}})->ArgNames({"cross"})->UseManualTime();
BENCHMARK(BM_wakeup)
    ->Name("wakeup")
    ->ArgsProduct({{static_cast<int64_t>(pfncache::WaitKind::kBusy), static_cast<int64_t>(pfncache::WaitKind::kSpin),
                    static_cast<int64_t>(pfncache::WaitKind::kHaltPoll), static_cast<int64_t>(pfncache::WaitKind::kBlock)},
                   {0, 1}})
    ->ArgNames({"wait", "cross"})
    ->UseManualTime();

}  // namespace
}  // namespace gpc::bench
