// Each invalidator through the harness (make_invalidator + Invalidator::step(), no
// listener, verification off: the step protocol alone) beside a bare loop doing the same
// syscalls directly on the same kind of memory. Both run on the first allowed PU.
// Types that cannot run here (probe()) or have no bare equivalent are skipped with the
// reason. `compact` is skipped unless GPC_BENCH_ALLOW_COMPACT=1: it compacts the whole
// system's memory.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "common/errors.hpp"
#include "floors.hpp"
#include "invalidators/invalidator.hpp"
#include "memory/anon_region.hpp"
#include "memory/memfd_region.hpp"
#include "memory/pagemap.hpp"
#include "pinning_scope.hpp"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace gpc::bench {
namespace {

bool is_thp(InvalidatorType t) { return t == InvalidatorType::thp_split || t == InvalidatorType::thp_collapse; }

bool allow_compact() {
  const char* v = std::getenv("GPC_BENCH_ALLOW_COMPACT");
  return v && std::strcmp(v, "1") == 0;
}

// The memory the invalidator works on: one 2 MB region, fresh per benchmark run (a bare
// page swap leaves the page on a file offset the region's table does not record).
std::unique_ptr<GuestRegion> make_region(InvalidatorType t) {
  if (is_thp(t)) return std::make_unique<AnonRegion>(RegionOptions{.size = kHugePageSize, .hugepage = true});
  return std::make_unique<MemfdRegion>(RegionOptions{.size = kHugePageSize, .spare_pages = 2});
}

void must(bool ok, const char* what) {
  if (!ok) throw SystemError(what, errno);
}

// The same syscalls an invalidator step makes on the cache page, with nothing around them.
std::function<void()> bare_op(InvalidatorType t, GuestRegion& g, const Pagemap& pm) {
  char* page = g.data();
  auto* memfd = dynamic_cast<MemfdRegion*>(&g);
  switch (t) {
    case InvalidatorType::mremap:
      // A spare file page is mapped, filled with the page's bytes and moved onto it.
      return [page, memfd, spare = static_cast<uint64_t>(g.size()), cur = uint64_t{0}]() mutable {
        void* s = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, memfd->memfd(), static_cast<off_t>(spare));
        must(s != MAP_FAILED, "mmap");
        std::memcpy(s, page, kPageSize);
        must(mremap(s, kPageSize, kPageSize, MREMAP_MAYMOVE | MREMAP_FIXED, page) != MAP_FAILED, "mremap");
        std::swap(spare, cur);
      };
    case InvalidatorType::mmap_fixed:
      return [page, memfd, spare = static_cast<uint64_t>(g.size()), cur = uint64_t{0}]() mutable {
        must(pwrite(memfd->memfd(), page, kPageSize, static_cast<off_t>(spare)) == static_cast<ssize_t>(kPageSize), "pwrite");
        must(mmap(page, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd->memfd(),
                  static_cast<off_t>(spare)) != MAP_FAILED,
             "mmap(MAP_FIXED)");
        std::swap(spare, cur);
      };
    case InvalidatorType::zap:
      return [page] {
        must(madvise(page, kPageSize, MADV_DONTNEED) == 0, "madvise(DONTNEED)");
        benchmark::DoNotOptimize(*static_cast<volatile char*>(page));
      };
    case InvalidatorType::punch_hole:
      return [page, memfd] {
        must(fallocate(memfd->memfd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, kPageSize) == 0, "fallocate");
        benchmark::DoNotOptimize(*static_cast<volatile char*>(page));
      };
    case InvalidatorType::mprotect:
      return [page] {
        must(mprotect(page, kPageSize, PROT_READ) == 0, "mprotect");
        must(mprotect(page, kPageSize, PROT_READ | PROT_WRITE) == 0, "mprotect");
      };
    case InvalidatorType::thp_split:
      return [page, &pm] {
        if (!pm.read(page).pmd_mapped.value_or(false)) (void)madvise(page, kHugePageSize, MADV_COLLAPSE);
        must(madvise(page + kHugePageSize - kPageSize, kPageSize, MADV_DONTNEED) == 0, "madvise(DONTNEED)");
      };
    case InvalidatorType::thp_collapse:
      return [page, &pm] {
        if (pm.read(page).pmd_mapped.value_or(false))
          must(madvise(page + kHugePageSize - kPageSize, kPageSize, MADV_DONTNEED) == 0, "madvise(DONTNEED)");
        (void)madvise(page, kHugePageSize, MADV_COLLAPSE);
      };
    case InvalidatorType::compact:
      return [fd = std::make_shared<int>(open("/proc/sys/vm/compact_memory", O_WRONLY | O_CLOEXEC))] {
        must(*fd >= 0 && pwrite(*fd, "1\n", 2, 0) == 2, "write(/proc/sys/vm/compact_memory)");
      };
    case InvalidatorType::migrate:
      break;  // needs two NUMA nodes to move anything; no bare loop written for it
  }
  return {};
}

// Why `t` cannot be measured here, or "" when it can.
std::string unavailable(InvalidatorType t) {
  const ProbeContext ctx{is_thp(t) ? BackingKind::anonymous : BackingKind::memfd, is_thp(t), allow_compact()};
  const ProbeResult p = probe(t, Target::cache, ctx);
  if (!p.runs_here)
    return t == InvalidatorType::compact && !allow_compact() ? p.reason + " (here: GPC_BENCH_ALLOW_COMPACT=1)" : p.reason;
  return "";
}

std::string floor_key(InvalidatorType t) { return "bare/" + std::string(invalidator_name(t)); }

double bare_ns(const std::function<void()>& op, uint64_t iters) {
  const uint64_t t0 = LoopTimer::thread_cpu_ns();
  for (uint64_t i = 0; i < iters; ++i) op();
  return static_cast<double>(LoopTimer::thread_cpu_ns() - t0) /
         static_cast<double>(iters);
}

void BM_bare(benchmark::State& state, InvalidatorType t) {
  if (const std::string why = unavailable(t); !why.empty()) {
    state.SkipWithError(("not runnable here: " + why).c_str());
    return;
  }
  try {
    PinningScope pin(spread_pu(0));
    auto region = make_region(t);
    Pagemap pm;
    auto op = bare_op(t, *region, pm);
    if (!op) {
      state.SkipWithError("no bare equivalent (migrate needs two NUMA nodes)");
      return;
    }
    LoopTimer timer;
    timer.start();
    for (auto _ : state) op();
    finish_floor(state, floor_key(t), timer.ns_per_op(state));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

void BM_harness(benchmark::State& state, InvalidatorType t) {
  if (const std::string why = unavailable(t); !why.empty()) {
    state.SkipWithError(("not runnable here: " + why).c_str());
    return;
  }
  try {
    PinningScope pin(spread_pu(0));
    auto region = make_region(t);
    auto inv = make_invalidator(t, *region, {.verify = false, .allow_compact = allow_compact()});
    uint64_t failed = 0;
    LoopTimer timer;
    timer.start();
    for (auto _ : state) failed += inv->step().op_failed;
    const double ns = timer.ns_per_op(state);
    state.counters["op_failed"] = static_cast<double>(failed);
    finish_vs_floor(state, floor_key(t), ns, [t] {
      auto r = make_region(t);
      Pagemap pm;
      auto op = bare_op(t, *r, pm);
      return op ? bare_ns(op, is_thp(t) ? 20 : 2000) : 0.0;
    });
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// Registered per type by name (bare first, then the harness), in a fixed order.
const bool registered = [] {
  for (InvalidatorType t : all_invalidator_types()) {
    const std::string name(invalidator_name(t));
    benchmark::RegisterBenchmark(("floor/invalidator_bare/" + name).c_str(), BM_bare, t);
    benchmark::RegisterBenchmark(("invalidator/" + name).c_str(), BM_harness, t);
  }
  return true;
}();

}  // namespace
}  // namespace gpc::bench
