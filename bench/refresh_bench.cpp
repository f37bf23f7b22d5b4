// Uncontended refresh: invalidate a valid cache (range_start + range_end on its page,
// nobody else running) and refresh it through MemfdResolver on a memfd. Floors: the
// resolver alone, hva_to_pfn (lookup + touch, and one pagemap check per 64 calls), and
// hva_to_pfn + map + unmap (map is view + offset since issue 12: no syscall). A refresh of
// an unmoved page reuses its mapping (as hva_to_pfn_retry does when the pfn is
// unchanged), so its floor is hva_to_pfn; `maps_per_op` shows whether it mapped.
#include <memory>

#include "floors.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_region.hpp"
#include "pfncache/memfd_resolver.hpp"
#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

struct Rig {
  explicit Rig(pfncache::Policy p = {})
      : region(1, 1), resolver(region.backing()), vm(p), gpc(vm, resolver) {}
  pfncache::MemfdRegion region;
  pfncache::MemfdResolver resolver;
  pfncache::NotifierState vm;
  pfncache::Gpc gpc;
};

double resolve_ns(bool with_map, uint64_t iters) {
  Rig rig;
  const uintptr_t hva = rig.region.page_hva(0);
  const uint64_t t0 = LoopTimer::thread_cpu_ns();
  for (uint64_t i = 0; i < iters; ++i) {
    auto f = rig.resolver.hva_to_pfn(hva);
    if (with_map && f) rig.resolver.unmap(rig.resolver.map(*f));
    benchmark::DoNotOptimize(f);
  }
  return static_cast<double>(LoopTimer::thread_cpu_ns() - t0) /
         static_cast<double>(iters);
}

void BM_floor_hva_to_pfn(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  Rig rig;
  const uintptr_t hva = rig.region.page_hva(0);
  LoopTimer t;
  t.start();
  for (auto _ : state) {
    auto f = rig.resolver.hva_to_pfn(hva);
    benchmark::DoNotOptimize(f);
  }
  finish_floor(state, "hva_to_pfn", t.ns_per_op(state));
  state.counters["pfns_visible"] = rig.resolver.pfns_visible();
}

void BM_floor_hva_to_pfn_map(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  Rig rig;
  const uintptr_t hva = rig.region.page_hva(0);
  LoopTimer t;
  t.start();
  for (auto _ : state) {
    auto f = rig.resolver.hva_to_pfn(hva);
    if (!f || !rig.resolver.unmap(rig.resolver.map(*f))) {
      state.SkipWithError("hva_to_pfn/map failed on the memfd page");
      break;
    }
  }
  finish_floor(state, "hva_to_pfn_map", t.ns_per_op(state));
}

void BM_refresh(benchmark::State& state) {
  PinningScope pin(spread_pu(0));
  pfncache::Policy p;
  p.check = state.range(0) ? pfncache::ReaderCheck::kLockless : pfncache::ReaderCheck::kRwlock;
  Rig rig(p);
  const uintptr_t hva = rig.region.page_hva(0);
  if (rig.gpc.activate(hva, 8) != pfncache::RefreshResult::kOk) {
    state.SkipWithError("activating the cache on a memfd page failed");
    return;
  }
  const auto before = rig.gpc.stats();
  LoopTimer t;
  t.start();
  for (auto _ : state) {
    rig.vm.invalidate_range_start(hva, hva + pfncache::kPageSize);
    rig.vm.invalidate_range_end(hva, hva + pfncache::kPageSize);
    if (rig.gpc.refresh(8) != pfncache::RefreshResult::kOk) {
      state.SkipWithError("refresh of an uncontended cache failed");
      break;
    }
  }
  const double ns = t.ns_per_op(state);
  const auto after = rig.gpc.stats();
  const double iters = static_cast<double>(state.iterations() ? state.iterations() : 1);
  state.counters["maps_per_op"] = static_cast<double>(after.maps - before.maps) / iters;
  state.counters["retries_per_op"] = static_cast<double>(after.retries - before.retries) / iters;
  finish_vs_floor(state, "hva_to_pfn", ns, [] { return resolve_ns(false, 20'000); });
}

BENCHMARK(BM_floor_hva_to_pfn)->Name("floor/hva_to_pfn");
BENCHMARK(BM_floor_hva_to_pfn_map)->Name("floor/hva_to_pfn_map");
BENCHMARK(BM_refresh)->Name("refresh")->ArgsProduct({{0, 1}})->ArgNames({"lockless"});

}  // namespace
}  // namespace gpc::bench
