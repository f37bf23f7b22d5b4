// Seeded multi-thread run on real memory against the BRIEF §6 invariants: writers (one
// cache each, like vCPUs) loop read-lock/check/write/unlock and refresh on failure; an
// invalidator swaps random guest pages (cached and unrelated) with real mremaps bracketed
// by the notifier. Checked: no unexpected violation, the hook=end breach reported (not
// absent), no deadlock (bounded by a watchdog), counters consistent, nothing leaked, and
// (hook=start) the last event each writer delivered is what the guest page shows.
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/stop.hpp"
#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_region.hpp"
#include "pfncache/memfd_resolver.hpp"
#include "pfncache/sync_point.hpp"

namespace gpc::pfncache {
namespace {

constexpr int kWriters = 2;   // 2 CPUs here, shared with the invalidator
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kSwaps = 120;  // sanitizers run 5-15x slower; fewer swaps keep the suite short
#else
constexpr int kSwaps = 400;  // total, over two invalidator threads
#endif
constexpr uint64_t kSeed = 20241015;

}  // namespace

void PrintTo(const Policy& p, std::ostream* os) { *os << describe(p); }

namespace {

class RandomRun : public ::testing::TestWithParam<Policy> {};

TEST_P(RandomRun, InvariantsHold) {
  Policy policy = GetParam();
  // Two spinning writers can keep the invalidators off both CPUs for whole time slices on
  // a loaded 2-CPU machine; the bound is for hangs, not for slow progress.
  policy.refresh_bound = std::chrono::seconds(15);
  MemfdRegion region(4, 4);  // pages 0,1 cached; 2,3 unrelated
  NotifierState vm(policy);
  MemfdResolver resolver(region.backing());
  ContractChecker checker(vm, &region.backing());
  std::vector<std::unique_ptr<Gpc>> caches;
  for (int w = 0; w < kWriters; ++w) {
    caches.push_back(std::make_unique<Gpc>(vm, resolver));
    ASSERT_EQ(caches.back()->activate(region.page_hva(w), 8), RefreshResult::kOk);
  }

  std::atomic<bool> done{false};
  std::atomic<uint64_t> bad_refreshes{0};
  std::vector<uint64_t> last_written(kWriters, 0);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Gpc& gpc = *caches[w];
      for (uint64_t n = 1; !done.load(std::memory_order_relaxed) && !stop_requested(); ++n) {
        bool wrote = false;
        {
          auto g = gpc.read_lock();
          if (g && gpc.check(8)) {
            checker.write_u64(gpc, 0, n);
            last_written[w] = n;
            wrote = true;
          }
        }
        if (wrote) {
          // A vCPU does other work between events; yielding now and then keeps two
          // writers from starving the invalidators on this 2-CPU machine.
          if (n % 8 == 0) sched_yield();
          continue;
        }
        if (const RefreshResult r = gpc.refresh(8); r != RefreshResult::kOk) {
          bad_refreshes.fetch_add(1);
          ADD_FAILURE() << "refresh failed: " << to_string(r);
        }
      }
    });
  }

  // Watchdog: a hang turns into a stop request and a failed test, never a stuck ctest.
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    eventually([&] { return finished.load(); }, std::chrono::seconds(60));
    if (!finished.load()) request_stop();
  });

  auto total_refreshes = [&] {
    uint64_t n = 0;
    for (auto& c : caches) n += c->stats().refreshes;
    return n;
  };
  // Two invalidators, so brackets overlap and the count sometimes exceeds one.
  std::vector<std::thread> invalidators;
  for (int v = 0; v < 2; ++v) {
    invalidators.emplace_back([&, v] {
      std::mt19937_64 rng(kSeed + v);
      for (int i = 0; i < kSwaps / 2 && !stop_requested(); ++i) {
        const size_t page = rng() % 4;
        const uint64_t seen = checker.stats().accesses;
        const uint64_t refreshing = total_refreshes();
        region.swap_page(page, &vm, [&] {
          // Hold a cached page's invalidation open (bounded, never required) until a
          // writer reacts: hook=start writers find the cache invalid and refresh into the
          // open invalidation; hook=end writers keep using it (the breach to report).
          if (page >= kWriters) return;
          if (unsafe_by_design(policy))
            eventually([&] { return checker.stats().accesses > seen + 4; },
                       std::chrono::milliseconds(20));
          else
            eventually([&] { return total_refreshes() > refreshing; },
                       std::chrono::milliseconds(5));
        });
        // Every fourth swap, let the writers catch up (bounded): enough to keep them
        // using and refreshing their caches, few enough that swaps still overlap refreshes.
        if (i % 4 == 3) {
          const uint64_t after = checker.stats().accesses;
          eventually([&] { return checker.stats().accesses > after; },
                     std::chrono::milliseconds(20));
        }
      }
    });
  }
  for (auto& t : invalidators) t.join();
  done = true;
  for (auto& t : writers) t.join();
  finished = true;
  watchdog.join();
  ASSERT_FALSE(stop_requested()) << "watchdog fired: a thread did not finish (deadlock?)";

  const ContractStats cs = checker.stats();
  GpcStats total;
  for (int w = 0; w < kWriters; ++w) {
    const GpcStats s = caches[w]->stats();
    EXPECT_EQ(s.refreshes, s.refresh_ok + s.refresh_failed);
    EXPECT_GE(s.hva_to_pfn, s.refresh_ok) << "every refresh here started from an invalid cache";
    EXPECT_EQ(s.maps, s.unmaps + 1) << "exactly the current mapping is live";
    EXPECT_EQ(caches[w]->audit().violations(), 0u);
    if (!unsafe_by_design(policy)) {  // no lost event: the guest sees the last write
      EXPECT_EQ(__atomic_load_n(reinterpret_cast<uint64_t*>(region.page_hva(w)), __ATOMIC_RELAXED),
                last_written[w]);
    }
    total += s;
  }
  std::cout << fmt::format(
      "{}: accesses={} unsafe={} violations={} unverifiable={} refreshes={} retries={} "
      "resolves={} sleeps={} wakeups={} inval={}\n",
      describe(policy), cs.accesses, cs.unsafe_violations, cs.violations(), cs.unverifiable,
      total.refreshes, total.retries, total.hva_to_pfn, total.sleeps, total.wakeups,
      vm.stats().ends);
  EXPECT_EQ(bad_refreshes.load(), 0u);
  EXPECT_EQ(cs.violations(), 0u) << "stale=" << cs.stale << " after_start=" << cs.use_after_start
                                 << " null=" << cs.null_khva;
  EXPECT_GT(cs.accesses, 0u);
  if (unsafe_by_design(policy)) {
    EXPECT_GT(cs.unsafe_violations, 0u) << "hook=end breach must be detected and reported";
  } else {
    EXPECT_EQ(cs.unsafe_violations, 0u);
  }
  for (auto& c : caches) c->deactivate();
  EXPECT_EQ(resolver.live_mappings(), 0u);
  EXPECT_EQ(resolver.bad_unmaps(), 0u);
  EXPECT_EQ(vm.active_count(), 0);
}

std::vector<Policy> policies() {
  std::vector<Policy> out;
  for (WaitKind w : {WaitKind::kBusy, WaitKind::kSpin, WaitKind::kHaltPoll, WaitKind::kBlock})
    for (Filter f : {Filter::kGlobal, Filter::kRange})
      for (ReaderCheck c : {ReaderCheck::kRwlock, ReaderCheck::kLockless}) {
        Policy p;
        p.wait = w;
        p.filter = f;
        p.check = c;
        out.push_back(p);
      }
  for (WaitKind w : {WaitKind::kBusy, WaitKind::kBlock}) {
    Policy p;
    p.hook = Hook::kEnd;
    p.filter = Filter::kRange;
    p.wait = w;
    out.push_back(p);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Policies, RandomRun, ::testing::ValuesIn(policies()),
                         [](const auto& param_info) {
                           std::string n = describe(param_info.param);
                           for (char& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace gpc::pfncache
