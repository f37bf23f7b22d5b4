// The model on real memory: a memfd, MemfdResolver's second mapping, real mremap swaps.
#include <thread>

#include <gtest/gtest.h>

#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/memfd_region.hpp"
#include "pfncache/memfd_resolver.hpp"
#include "pfncache/sync_point.hpp"

namespace gpc::pfncache {
namespace {

uint64_t via_uhva(uintptr_t a) { return __atomic_load_n(reinterpret_cast<uint64_t*>(a), __ATOMIC_RELAXED); }

struct Real {
  explicit Real(Policy p = {}) : region(4, 2), vm(p), resolver(region.backing()), gpc(vm, resolver),
                                 checker(vm, &region.backing()) {}
  std::optional<Access> write(uint64_t v) {
    auto g = gpc.read_lock();
    if (!g || !gpc.check(8)) return std::nullopt;
    return checker.write_u64(gpc, 0, v);
  }
  MemfdRegion region;
  NotifierState vm;
  MemfdResolver resolver;
  Gpc gpc;
  ContractChecker checker;
};

TEST(Memfd, KhvaIsASecondMappingOfThePageBehindUhva) {
  Real r;
  const uintptr_t uhva = r.region.page_hva(1) + 64;
  ASSERT_EQ(r.gpc.activate(uhva, 8), RefreshResult::kOk);
  EXPECT_NE(reinterpret_cast<uintptr_t>(r.gpc.khva()), uhva);
  ASSERT_EQ(r.write(0x1234), Access::kOk);
  EXPECT_EQ(via_uhva(uhva), 0x1234u);
  const PfnCheckStats pc = r.resolver.pfn_checks();
  if (r.resolver.pfns_visible()) {
    EXPECT_EQ(pc.verified, 1u);
    EXPECT_EQ(r.gpc.view().pfn, r.resolver.pfn_of(uhva));
  } else {
    EXPECT_EQ(pc.unverified, 1u);  // not root: frame numbers hidden, reported as such
  }
}

// Seed 000 (Bonzini, Nov 2021), step by step on real memory: invalidator start -> refresh
// retries -> the page is actually moved -> end -> the refresh succeeds on the new page.
TEST(Memfd, Seed000InvalidateStartRefreshRetriesEndThenSucceeds) {
  Real r;
  const uintptr_t uhva = r.region.page_hva(1);
  ASSERT_EQ(r.gpc.activate(uhva, 8), RefreshResult::kOk);
  const uint64_t old_offset = r.gpc.view().memfd_offset;
  r.vm.invalidate_range_start(uhva, uhva + 4096);  // count raised, cache invalidated
  EXPECT_EQ(r.write(1), std::nullopt);
  RefreshResult rr = RefreshResult::kFault;
  std::thread vcpu([&] { rr = r.gpc.refresh(8); });
  ASSERT_TRUE(eventually([&] { return r.gpc.stats().retries >= 1; }));  // retry! (count > 0)
  r.region.swap_page(1, nullptr);                  // actually unmap/move the page
  r.vm.invalidate_range_end(uhva, uhva + 4096);    // count dropped
  vcpu.join();
  EXPECT_EQ(rr, RefreshResult::kOk);
  EXPECT_NE(r.gpc.view().memfd_offset, old_offset);
  EXPECT_EQ(r.gpc.view().memfd_offset, *r.region.backing().memfd_offset_of(uhva));
  ASSERT_EQ(r.write(0xBEEF), Access::kOk);
  EXPECT_EQ(via_uhva(uhva), 0xBEEFu);
  EXPECT_EQ(r.checker.stats().violations(), 0u);
  r.gpc.deactivate();
  EXPECT_EQ(r.resolver.live_mappings(), 0u);
  EXPECT_EQ(r.resolver.bad_unmaps(), 0u);
}

// The stale-use detector itself: a page moved without the notifier must be reported.
TEST(Memfd, UnbracketedMoveIsReportedAsStaleUse) {
  Real r;
  ASSERT_EQ(r.gpc.activate(r.region.page_hva(2), 8), RefreshResult::kOk);
  r.region.swap_page(2, nullptr);
  EXPECT_EQ(r.write(5), Access::kStale);
  EXPECT_EQ(r.checker.stats().stale, 1u);
  EXPECT_NE(via_uhva(r.region.page_hva(2)), 5u);  // the write went to the old page: lost
}

// BRIEF §6: with hook=end the cache stays valid after range_start returned. The write is
// reported as unsafe by design (not hidden, not counted as an unexpected violation).
TEST(Memfd, HookEndBreachIsReportedAsUnsafeByDesign) {
  Policy p;
  p.hook = Hook::kEnd;
  p.wait = WaitKind::kBlock;
  Real r(p);
  const uintptr_t uhva = r.region.page_hva(0);
  ASSERT_EQ(r.gpc.activate(uhva, 8), RefreshResult::kOk);
  r.region.swap_page(0, &r.vm, [&] { EXPECT_EQ(r.write(9), Access::kUnsafeByDesign); });
  EXPECT_EQ(r.write(10), std::nullopt);  // invalidated in range_end
  ASSERT_EQ(r.gpc.refresh(8), RefreshResult::kOk);
  EXPECT_EQ(r.write(11), Access::kOk);
  const ContractStats s = r.checker.stats();
  EXPECT_EQ(s.unsafe_violations, 1u);
  EXPECT_EQ(s.violations(), 0u);
}

// Issue 12 item 6: khva is the kernel's direct-map address of the page, i.e. one
// persistent view of the whole memfd at view + memfd offset. No refresh maps or unmaps
// anything (no mmap_lock for write, no TLB shootdown against the invalidators).
TEST(Memfd, KhvaIsThePersistentViewPlusTheMemfdOffset) {
  Real a;
  NotifierState& vm = a.vm;
  Gpc second(vm, a.resolver);
  ASSERT_EQ(a.gpc.activate(a.region.page_hva(0) + 8, 8), RefreshResult::kOk);
  ASSERT_EQ(second.activate(a.region.page_hva(1), 8), RefreshResult::kOk);
  for (int round = 0; round < 6; ++round) {
    a.region.swap_page(round % 2, &vm);
    ASSERT_EQ(a.gpc.refresh(8), RefreshResult::kOk);
    ASSERT_EQ(second.refresh(8), RefreshResult::kOk);
    for (Gpc* g : {&a.gpc, &second}) {
      const GpcView v = g->view();
      EXPECT_EQ(v.khva - offset_in_page(v.uhva) - v.memfd_offset, a.resolver.view())
          << "round " << round << ": khva is not the view at the page's memfd offset";
      EXPECT_EQ(v.memfd_offset, *a.region.backing().memfd_offset_of(page_of(v.uhva)));
    }
    ASSERT_EQ(a.write(round), Access::kOk);
    EXPECT_EQ(via_uhva(a.region.page_hva(0) + 8), static_cast<uint64_t>(round));
  }
  second.deactivate();
  a.gpc.deactivate();
  EXPECT_EQ(a.resolver.live_mappings(), 0u);
  EXPECT_EQ(a.resolver.bad_unmaps(), 0u);
}

}  // namespace
}  // namespace gpc::pfncache
