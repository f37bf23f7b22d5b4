// check() fast path: read_lock + check + unlock, as every user of a pfn cache does it,
// under `rwlock` (gpc->lock) and `lockless` (SRCU-style read section), with 1..N reader
// threads on one cache. Floors: a bare pthread_rwlock read lock/unlock and a bare
// seqcount read section, with the same thread count.
#include <pthread.h>

#include <atomic>
#include <memory>
#include <string>

#include "floors.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_region.hpp"
#include "pfncache/memfd_resolver.hpp"
#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

using pfncache::ReaderCheck;

constexpr uint64_t kFallbackIters = 200'000;

// ---- floors ----------------------------------------------------------------------------

pthread_rwlock_t g_rwlock = PTHREAD_RWLOCK_INITIALIZER;
alignas(64) std::atomic<uint32_t> g_seq{0};
alignas(64) std::atomic<uint64_t> g_seq_field{42};

inline void bare_rwlock_read() {
  pthread_rwlock_rdlock(&g_rwlock);
  benchmark::DoNotOptimize(g_seq_field.load(std::memory_order_relaxed));
  pthread_rwlock_unlock(&g_rwlock);
}

// read_seqcount_begin / read_seqcount_retry around one field, as a lockless reader does.
inline void bare_seqcount_read() {
  uint32_t s;
  uint64_t v;
  do {
    s = g_seq.load(std::memory_order_acquire);
    v = g_seq_field.load(std::memory_order_acquire);
  } while ((s & 1) || g_seq.load(std::memory_order_relaxed) != s);
  benchmark::DoNotOptimize(v);
}

std::string floor_key(const char* what, int threads) { return std::string(what) + "/" + std::to_string(threads); }

void BM_floor_pthread_rwlock_read(benchmark::State& state) {
  PinningScope pin(spread_pu(state.thread_index()));
  LoopTimer t;
  t.start();
  for (auto _ : state) bare_rwlock_read();
  finish_floor(state, floor_key("rwlock", state.threads()), t.ns_per_op(state));
}

void BM_floor_seqcount_read(benchmark::State& state) {
  PinningScope pin(spread_pu(state.thread_index()));
  LoopTimer t;
  t.start();
  for (auto _ : state) bare_seqcount_read();
  finish_floor(state, floor_key("seqcount", state.threads()), t.ns_per_op(state));
}

// ---- the cache -------------------------------------------------------------------------

// One active cache on a memfd page, shared by every reader thread of a run. Thread 0
// builds it in SetUp; the others meet it at the start barrier of the timed loop.
class CheckFixture : public benchmark::Fixture {
 public:
  void SetUp(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    pfncache::Policy p;
    p.check = state.range(0) ? ReaderCheck::kLockless : ReaderCheck::kRwlock;
    region_ = std::make_unique<pfncache::MemfdRegion>(1, 1);
    resolver_ = std::make_unique<pfncache::MemfdResolver>(region_->backing());
    vm_ = std::make_unique<pfncache::NotifierState>(p);
    gpc_ = std::make_unique<pfncache::Gpc>(*vm_, *resolver_);
    if (gpc_->activate(region_->page_hva(0), 8) != pfncache::RefreshResult::kOk)
      state.SkipWithError("activating the cache on a memfd page failed");
  }
  void TearDown(benchmark::State& state) override {
    if (state.thread_index() != 0) return;
    gpc_.reset();
    vm_.reset();
    resolver_.reset();
    region_.reset();
  }

 protected:
  std::unique_ptr<pfncache::MemfdRegion> region_;
  std::unique_ptr<pfncache::MemfdResolver> resolver_;
  std::unique_ptr<pfncache::NotifierState> vm_;
  std::unique_ptr<pfncache::Gpc> gpc_;
};

BENCHMARK_DEFINE_F(CheckFixture, BM_check)(benchmark::State& state) {
  PinningScope pin(spread_pu(state.thread_index()));
  const bool lockless = state.range(0) != 0;
  // gpc_ is read inside the loop: threads other than 0 get here before thread 0's SetUp
  // has built it and meet it only at the loop's start barrier.
  uint64_t misses = 0;
  LoopTimer t;
  t.start();
  for (auto _ : state) {
    auto guard = gpc_->read_lock();
    const bool ok = gpc_->check(8);
    benchmark::DoNotOptimize(ok);
    misses += !ok;
  }
  const double ns = t.ns_per_op(state);
  if (misses) state.SkipWithError("check() failed on a valid cache");
  const int threads = state.threads();
  if (lockless)
    finish_vs_floor(state, floor_key("seqcount", threads), ns,
                    [threads] { return measure_threads(threads, kFallbackIters, bare_seqcount_read); });
  else
    finish_vs_floor(state, floor_key("rwlock", threads), ns,
                    [threads] { return measure_threads(threads, kFallbackIters, bare_rwlock_read); });
}

// Floors first: benchmarks of one file run in the order they are registered.
BENCHMARK(BM_floor_pthread_rwlock_read)->Name("floor/pthread_rwlock_read")->DenseThreadRange(1, max_bench_threads());
BENCHMARK(BM_floor_seqcount_read)->Name("floor/seqcount_read")->DenseThreadRange(1, max_bench_threads());
BENCHMARK_REGISTER_F(CheckFixture, BM_check)
    ->Name("check")
    ->ArgsProduct({{0, 1}})
    ->ArgNames({"lockless"})
    ->DenseThreadRange(1, max_bench_threads());

}  // namespace
}  // namespace gpc::bench
