// gpc_inval_overhead: how much the invalidator harness (step protocol + runner thread)
// costs over a bare loop doing the same memory operation, per type, in one process run.
// Usage: gpc_inval_overhead [--duration 500ms] [--rounds 3] [--pu 0] [--allow-compact]
// Prints ops/s of the bare loop, of the runner (rate=free, no listener, verify off) and of
// the runner with verification on, and the ratio runner/bare (goal >= 0.90).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/duration.hpp"
#include "common/errors.hpp"
#include "common/stop.hpp"
#include "invalidators/runner.hpp"
#include "memory/anon_region.hpp"
#include "memory/memfd_region.hpp"
#include "memory/pagemap.hpp"
#include "topology/pinning.hpp"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace gpc {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `op` back to back for `d` on a fresh thread pinned to `pu`, as the runner does (a
// fresh thread and a long-running one are not treated alike by the scheduler under load).
double bare_rate(Nanos d, int pu, const std::function<void()>& op) {
  double rate = 0;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      pin_current_thread(pu);
      const auto begin = Clock::now(), end = begin + d;
      uint64_t n = 0;
      while (Clock::now() < end && !stop_requested()) {
        op();
        ++n;
      }
      rate = n / std::chrono::duration<double>(Clock::now() - begin).count();
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  return rate;
}

double runner_rate(InvalidatorType type, GuestRegion& g, bool verify, Nanos d, int pu, bool allow_compact) {
  std::vector<std::unique_ptr<Invalidator>> v;
  v.push_back(make_invalidator(type, g, {.verify = verify, .allow_compact = allow_compact}));
  InvalidatorRunner runner(std::move(v), {pu});
  runner.run_for(d);
  return runner.stats()[0].ops_per_s();
}

// The bare equivalent of each invalidator on the cache page (the region's first page).
std::function<void()> bare_op(InvalidatorType type, GuestRegion& g, Pagemap& pm) {
  char* page = g.data();
  auto* m = dynamic_cast<MemfdRegion*>(&g);
  switch (type) {
    case InvalidatorType::mremap:
      return [page, m, cur = uint64_t(0), spare = uint64_t(g.size())]() mutable {
        void* s = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, m->memfd(), static_cast<off_t>(spare));
        if (s == MAP_FAILED) throw SystemError("mmap", errno);
        std::memcpy(s, page, kPageSize);
        if (mremap(s, kPageSize, kPageSize, MREMAP_MAYMOVE | MREMAP_FIXED, page) == MAP_FAILED)
          throw SystemError("mremap", errno);
        std::swap(cur, spare);
      };
    case InvalidatorType::mmap_fixed:
      return [page, m, cur = uint64_t(0), spare = uint64_t(g.size())]() mutable {
        if (pwrite(m->memfd(), page, kPageSize, static_cast<off_t>(spare)) != kPageSize) throw SystemError("pwrite", errno);
        if (mmap(page, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m->memfd(), static_cast<off_t>(spare)) ==
            MAP_FAILED)
          throw SystemError("mmap", errno);
        std::swap(cur, spare);
      };
    case InvalidatorType::zap:
      return [page] {
        check_syscall(madvise(page, kPageSize, MADV_DONTNEED), "madvise");
        (void)*static_cast<volatile char*>(page);
      };
    case InvalidatorType::punch_hole:
      return [page, m] {
        check_syscall(fallocate(m->memfd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, kPageSize), "fallocate");
        (void)*static_cast<volatile char*>(page);
      };
    case InvalidatorType::mprotect:
      return [page] {
        check_syscall(mprotect(page, kPageSize, PROT_READ), "mprotect");
        check_syscall(mprotect(page, kPageSize, PROT_READ | PROT_WRITE), "mprotect");
      };
    case InvalidatorType::thp_split:
      return [page, &pm] {
        if (!pm.read(page).pmd_mapped.value_or(false)) (void)madvise(page, kHugePageSize, MADV_COLLAPSE);
        check_syscall(madvise(page + kHugePageSize - kPageSize, kPageSize, MADV_DONTNEED), "madvise");
      };
    case InvalidatorType::thp_collapse:
      return [page, &pm] {
        if (pm.read(page).pmd_mapped.value_or(false))
          check_syscall(madvise(page + kHugePageSize - kPageSize, kPageSize, MADV_DONTNEED), "madvise");
        (void)madvise(page, kHugePageSize, MADV_COLLAPSE);
      };
    case InvalidatorType::compact:
      return [fd = std::make_shared<UniqueFd>(open("/proc/sys/vm/compact_memory", O_WRONLY | O_CLOEXEC))] {
        check_syscall(pwrite(fd->get(), "1\n", 2, 0), "write(compact_memory)");
      };
    case InvalidatorType::migrate:
      break;
  }
  return {};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run(int argc, char** argv) {
  Nanos d = std::chrono::milliseconds(500);
  int rounds = 3, pu = 0;
  bool allow_compact = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--duration" && i + 1 < argc) d = parse_duration(argv[++i], "--duration");
    else if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::stoi(argv[++i]));
    else if (a == "--pu" && i + 1 < argc) pu = std::stoi(argv[++i]);
    else if (a == "--allow-compact") allow_compact = true;
    else throw UsageError("unknown argument '" + a + "' (use --duration D --rounds N --pu P --allow-compact)");
  }
  install_stop_signal_handlers();
  pin_current_thread(pu);
  Pagemap pm;
  fmt::print("{:<13} {:<6} {:>12} {:>12} {:>8} {:>14} {:>8}\n", "type", "memory", "bare ops/s", "runner ops/s",
             "ratio", "verified ops/s", "ratio");
  for (auto type : all_invalidator_types()) {
    const bool thp = type == InvalidatorType::thp_split || type == InvalidatorType::thp_collapse;
    const BackingKind kind = thp ? BackingKind::anonymous : BackingKind::memfd;
    const ProbeResult p = probe(type, Target::cache, {kind, thp, allow_compact});
    if (!p.runs_here) {
      fmt::print("{:<13} skipped: {}\n", invalidator_name(type), p.reason);
      continue;
    }
    std::unique_ptr<GuestRegion> g;
    if (thp) g = std::make_unique<AnonRegion>(RegionOptions{.size = kHugePageSize, .hugepage = true});
    else g = std::make_unique<MemfdRegion>(RegionOptions{.size = kHugePageSize, .spare_pages = 2});
    std::vector<double> bare, harness, verified;
    const auto fresh = [&] {
      // The bare mremap/mmap-fixed loops leave the page at a spare offset the region's table
      // does not know about; a fresh region per harness run keeps the table truthful.
      if (!thp) g = std::make_unique<MemfdRegion>(RegionOptions{.size = kHugePageSize, .spare_pages = 2});
    };
    for (int r = 0; r < rounds && !stop_requested(); ++r) {
      // Alternate which side goes first so drift in machine load hits both alike.
      if (r % 2 == 0) bare.push_back(bare_rate(d, pu, bare_op(type, *g, pm)));
      fresh();
      harness.push_back(runner_rate(type, *g, false, d, pu, allow_compact));
      verified.push_back(runner_rate(type, *g, true, d, pu, allow_compact));
      fresh();
      if (r % 2 == 1) bare.push_back(bare_rate(d, pu, bare_op(type, *g, pm)));
      fresh();
    }
    const double b = median(bare), h = median(harness), v = median(verified);
    fmt::print("{:<13} {:<6} {:>12.0f} {:>12.0f} {:>8.3f} {:>14.0f} {:>8.3f}\n", invalidator_name(type),
               backing_name(kind), b, h, h / b, v, v / b);
  }
  return 0;
}

}  // namespace
}  // namespace gpc

int main(int argc, char** argv) {
  try {
    return gpc::run(argc, argv);
  } catch (const gpc::UsageError& e) {
    fmt::print(stderr, "gpc_inval_overhead: {}\n", e.what());
    return gpc::kExitUnusable;
  } catch (const std::exception& e) {
    fmt::print(stderr, "gpc_inval_overhead: {}\n", e.what());
    return gpc::kExitFailure;
  }
}
