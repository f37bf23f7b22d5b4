#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/errors.hpp"
#include "invalidators/invalidator.hpp"
#include "invalidators/shmem_collapse_probe.hpp"
#include "invalidators/test_support.hpp"
#include "memory/anon_region.hpp"
#include "memory/memfd_region.hpp"
#include "memory/numa_placement.hpp"
#include "memory/thp_modes.hpp"

namespace gpc {
namespace {

using test::fill_page;
using test::page_has_pattern;
using test::RecordingListener;

constexpr size_t kRegion = 4u << 20;  // two 2 MB chunks

MemfdRegion memfd_guest(size_t spare = 16) { return MemfdRegion({.size = kRegion, .spare_pages = spare}); }

bool pfns_readable() { return Pagemap().pfns_readable(); }

// ---- parsing and probing ----

TEST(Parse, InvalidatorListAndTargets) {
  const auto types = parse_invalidator_list("mremap,mmap-fixed,thp-split");
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[1], InvalidatorType::mmap_fixed);
  for (auto t : all_invalidator_types()) EXPECT_EQ(parse_invalidator_list(invalidator_name(t)).at(0), t);
  EXPECT_EQ(parse_target("neighbour"), Target::neighbour);
}

TEST(Parse, BadValuesAreUsageErrorsNamingValidOnes) {
  for (const char* bad : {"", "mremap,", "mremap,bogus", "MREMAP"}) {
    try {
      parse_invalidator_list(bad);
      FAIL() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("punch-hole"), std::string::npos) << e.what();
    }
  }
  try {
    parse_target("neighbor");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("cache, neighbour, unrelated"), std::string::npos);
  }
}

TEST(Probe, ReasonsForWhatCannotRun) {
  const ProbeContext anon{BackingKind::anonymous, false, false};
  const ProbeContext memfd{BackingKind::memfd, false, false};
  EXPECT_TRUE(probe(InvalidatorType::mremap, Target::cache, memfd).runs_here);
  auto zap = probe(InvalidatorType::zap, Target::cache, anon);
  EXPECT_FALSE(zap.runs_here);
  EXPECT_NE(zap.reason.find("memfd"), std::string::npos);
  EXPECT_TRUE(probe(InvalidatorType::zap, Target::unrelated, anon).runs_here);
  EXPECT_FALSE(probe(InvalidatorType::punch_hole, Target::neighbour, anon).runs_here);
  auto compact = probe(InvalidatorType::compact, Target::cache, memfd);
  EXPECT_FALSE(compact.runs_here);
  EXPECT_NE(compact.reason.find("explicitly allowed"), std::string::npos);
  auto migrate = probe(InvalidatorType::migrate, Target::cache, memfd);
  EXPECT_EQ(migrate.runs_here, numa_node_count() >= 2) << migrate.reason;
  if (!migrate.runs_here) {
    EXPECT_NE(migrate.reason.find("NUMA"), std::string::npos);
  }
  auto split_anon = probe(InvalidatorType::thp_split, Target::cache, anon);
  EXPECT_FALSE(split_anon.runs_here);  // region made without MADV_HUGEPAGE
  auto collapse_memfd = probe(InvalidatorType::thp_collapse, Target::cache, memfd);
  if (!read_thp_modes().shmem_madvise_works()) {
    EXPECT_EQ(collapse_memfd.runs_here, shmem_collapse_works());
    if (!collapse_memfd.runs_here) {
      EXPECT_NE(collapse_memfd.reason.find("shmem_enabled="), std::string::npos);
    }
  }
}

TEST(Probe, MakeInvalidatorRefusesWithTheProbeReason) {
  AnonRegion anon({.size = kRegion});
  try {
    make_invalidator(InvalidatorType::punch_hole, anon, {.target = Target::cache});
    FAIL();
  } catch (const UnavailableError& e) {
    EXPECT_EQ(std::string(e.what()), probe(InvalidatorType::punch_hole, Target::cache, {BackingKind::anonymous}).reason);
  }
  EXPECT_THROW(make_invalidator(InvalidatorType::compact, anon, {}), UnavailableError);
}

TEST(Plan, TargetsAndRangeErrors) {
  MemfdRegion g = memfd_guest();
  const uintptr_t cache = g.hva() + 3 * kPageSize;
  auto c = make_invalidator(InvalidatorType::zap, g, {.target = Target::cache, .cache_hva = cache + 5});
  EXPECT_EQ(c->plan().op, (HostRange{cache, cache + kPageSize}));
  auto n = make_invalidator(InvalidatorType::zap, g, {.target = Target::neighbour, .cache_hva = cache, .range_size = 8192});
  EXPECT_EQ(n->plan().chunk.start, g.hva());
  EXPECT_TRUE(n->plan().op.start >= g.hva() + kHugePageSize / 2 && n->plan().op.end <= g.hva() + kHugePageSize);
  auto u = make_invalidator(InvalidatorType::zap, g, {.target = Target::unrelated, .range_size = 3 * kPageSize});
  EXPECT_FALSE(g.contains(u->plan().op.start));
  EXPECT_EQ(u->plan().op.size(), 3 * kPageSize);
  EXPECT_THROW(make_invalidator(InvalidatorType::zap, g, {.target = Target::neighbour, .range_size = 1u << 21}), UsageError);
  EXPECT_THROW(make_invalidator(InvalidatorType::zap, g, {.target = Target::cache, .cache_hva = g.hva() + g.size()}), UsageError);
  EXPECT_THROW(make_invalidator(InvalidatorType::zap, g,
                                {.target = Target::cache, .cache_hva = g.hva() + g.size() - kPageSize, .range_size = 8192}),
               UsageError);
  MemfdRegion no_spares({.size = kRegion});
  EXPECT_THROW(make_invalidator(InvalidatorType::mremap, no_spares, {}), UsageError);
}

// ---- each type does what it claims ----

enum class Pfn { same, changes, may_reuse };  // may_reuse: the old frame is freed first and often reallocated
struct Expect {
  Pfn pfn;
  bool content_kept;
};

void check_step(Invalidator& inv, Expect e) {
  const uintptr_t page = inv.plan().observed;
  fill_page(page, 7);
  for (int i = 0; i < 3; ++i) {  // repeated steps keep working (spares recycle, THP re-forms)
    const StepResult r = inv.step();
    EXPECT_FALSE(r.op_failed);
    ASSERT_TRUE(r.content_preserved.has_value());
    EXPECT_EQ(*r.content_preserved, e.content_kept) << invalidator_name(inv.type()) << " step " << i;
    EXPECT_EQ(page_has_pattern(page, 7), e.content_kept);
    if (pfns_readable()) {
      ASSERT_TRUE(r.verified());
      if (e.pfn == Pfn::same) {
        EXPECT_FALSE(r.pfn_changed()) << invalidator_name(inv.type());
      }
      if (e.pfn == Pfn::changes) {
        EXPECT_TRUE(r.pfn_changed()) << invalidator_name(inv.type());
      }
    } else {
      EXPECT_FALSE(r.verified());
    }
    fill_page(page, 7);
  }
}

TEST(Types, MremapMemfdSwapsPageKeepsContentAndTableFollows) {
  MemfdRegion g = memfd_guest();
  const uintptr_t cache = g.hva() + kPageSize;
  auto inv = make_invalidator(InvalidatorType::mremap, g, {.cache_hva = cache});
  fill_page(cache, 3);
  const uint64_t before = *g.memfd_offset_of(cache);
  const StepResult r = inv->step();
  const uint64_t after = *g.memfd_offset_of(cache);
  EXPECT_NE(before, after);
  EXPECT_GE(after, g.size());  // a spare page beyond the guest
  std::vector<char> buf(kPageSize);
  ASSERT_EQ(pread(g.memfd(), buf.data(), kPageSize, static_cast<off_t>(after)), static_cast<ssize_t>(kPageSize));
  EXPECT_EQ(std::memcmp(buf.data(), reinterpret_cast<void*>(cache), kPageSize), 0);
  EXPECT_TRUE(*r.content_preserved);
  EXPECT_EQ(g.spare_free_pages(), 16u);  // the old page went back to the pool
  check_step(*inv, {Pfn::changes, true});
}

TEST(Types, MremapAnon) {
  AnonRegion g({.size = kRegion});
  auto inv = make_invalidator(InvalidatorType::mremap, g, {});
  check_step(*inv, {Pfn::changes, true});
}

TEST(Types, MmapFixedMemfdAndAnon) {
  MemfdRegion m = memfd_guest();
  auto a = make_invalidator(InvalidatorType::mmap_fixed, m, {.range_size = 2 * kPageSize});
  const uint64_t before = *m.memfd_offset_of(m.hva());
  check_step(*a, {Pfn::changes, true});
  EXPECT_NE(*m.memfd_offset_of(m.hva()), before);
  EXPECT_EQ(*m.memfd_offset_of(m.hva() + kPageSize), *m.memfd_offset_of(m.hva()) + kPageSize);
  AnonRegion g({.size = kRegion});
  auto b = make_invalidator(InvalidatorType::mmap_fixed, g, {});
  check_step(*b, {Pfn::may_reuse, true});
}

TEST(Types, ZapRefaultsTheSamePage) {
  MemfdRegion g = memfd_guest();
  auto inv = make_invalidator(InvalidatorType::zap, g, {.range_size = 4 * kPageSize});
  const uint64_t off = *g.memfd_offset_of(g.hva());
  check_step(*inv, {Pfn::same, true});
  EXPECT_EQ(*g.memfd_offset_of(g.hva()), off);
}

TEST(Types, PunchHoleLosesContent) {
  MemfdRegion g = memfd_guest();
  auto inv = make_invalidator(InvalidatorType::punch_hole, g, {});
  check_step(*inv, {Pfn::may_reuse, false});
  fill_page(g.hva(), 1);
  inv->step();
  const auto* p = reinterpret_cast<const char*>(g.hva());
  for (size_t i = 0; i < kPageSize; ++i) ASSERT_EQ(p[i], 0);  // a fresh zeroed page
}

TEST(Types, MprotectKeepsPageAndWriteAccess) {
  MemfdRegion g = memfd_guest();
  auto inv = make_invalidator(InvalidatorType::mprotect, g, {});
  check_step(*inv, {Pfn::same, true});
  g.data()[0] = 42;  // still writable
  EXPECT_EQ(g.data()[0], 42);
  AnonRegion a({.size = kRegion});
  auto b = make_invalidator(InvalidatorType::mprotect, a, {.target = Target::neighbour});
  check_step(*b, {Pfn::same, true});
}

void check_thp(GuestRegion& g, InvalidatorType type, Target target) {
  Pagemap pm;
  if (!pm.pmd_mapping_readable()) GTEST_SKIP() << "PAGEMAP_SCAN unavailable: PMD mapping cannot be verified";
  auto inv = make_invalidator(type, g, {.target = target, .cache_hva = g.hva() + 2 * kPageSize});
  fill_page(inv->plan().observed, 9);
  const StepResult r = inv->step();
  if (r.op_failed || !r.thp_before.has_value())
    GTEST_SKIP() << "the kernel had no huge page to give now (MADV_COLLAPSE failed)";
  const bool split = type == InvalidatorType::thp_split;
  if (split && !*r.thp_before) GTEST_SKIP() << "could not form a THP to split (memory fragmented)";
  EXPECT_EQ(r.range, inv->plan().chunk);
  EXPECT_EQ(*r.thp_before, split);
  EXPECT_EQ(*r.thp_after, !split);
  EXPECT_TRUE(*r.content_preserved);
  if (r.verified()) {
    EXPECT_EQ(r.pfn_changed(), !split);
  }
}

TEST(Types, ThpSplitAnon) {
  if (!read_thp_modes().anon_madvise_works()) GTEST_SKIP() << "anonymous THP disabled";
  AnonRegion g({.size = kRegion, .hugepage = true});
  check_thp(g, InvalidatorType::thp_split, Target::cache);
}

TEST(Types, ThpCollapseAnon) {
  if (!read_thp_modes().anon_madvise_works()) GTEST_SKIP() << "anonymous THP disabled";
  AnonRegion g({.size = kRegion, .hugepage = true});
  check_thp(g, InvalidatorType::thp_collapse, Target::neighbour);
}

TEST(Types, ThpCollapseMemfdWhereCollapseWorks) {
  const ProbeResult p = probe(InvalidatorType::thp_collapse, Target::cache, {BackingKind::memfd});
  if (!p.runs_here) GTEST_SKIP() << p.reason;
  MemfdRegion g = memfd_guest();
  check_thp(g, InvalidatorType::thp_collapse, Target::cache);
}

TEST(Types, ThpSplitOnMemfdIsRefusedWithAReason) {
  const ProbeResult p = probe(InvalidatorType::thp_split, Target::cache, {BackingKind::memfd});
  EXPECT_FALSE(p.runs_here);
  EXPECT_NE(p.reason.find("--target unrelated"), std::string::npos) << p.reason;
}

TEST(Types, ThpUnrelatedUsesItsOwnAnonThp) {
  const ProbeResult p = probe(InvalidatorType::thp_split, Target::unrelated, {BackingKind::memfd});
  if (!p.runs_here) GTEST_SKIP() << p.reason;
  MemfdRegion g = memfd_guest();
  check_thp(g, InvalidatorType::thp_split, Target::unrelated);
}

TEST(Types, MigrateMovesBetweenNodes) {
  const ProbeResult p = probe(InvalidatorType::migrate, Target::cache, {BackingKind::anonymous});
  if (!p.runs_here) GTEST_SKIP() << p.reason;
  AnonRegion g({.size = kRegion});
  auto inv = make_invalidator(InvalidatorType::migrate, g, {});
  check_step(*inv, {Pfn::changes, true});
}

TEST(Types, CompactOnlyWhenAllowed) {
  if (!getenv("GPCBENCH_ALLOW_COMPACT"))
    GTEST_SKIP() << "compact compacts the whole system; set GPCBENCH_ALLOW_COMPACT=1 to run it";
  MemfdRegion g = memfd_guest();
  auto inv = make_invalidator(InvalidatorType::compact, g, {.allow_compact = true});
  const StepResult r = inv->step();
  EXPECT_TRUE(*r.content_preserved);
}

TEST(Types, NeighbourLeavesTheCachePageAlone) {
  MemfdRegion g = memfd_guest();
  const uintptr_t cache = g.hva() + 10 * kPageSize;
  fill_page(cache, 5);
  const auto pfn = Pagemap().read(cache).pfn;
  auto inv = make_invalidator(InvalidatorType::punch_hole, g, {.target = Target::neighbour, .cache_hva = cache});
  inv->step();
  EXPECT_TRUE(page_has_pattern(cache, 5));
  EXPECT_EQ(Pagemap().read(cache).pfn, pfn);
}

TEST(Types, VerifyEverySamplesSteps) {
  MemfdRegion g = memfd_guest();
  auto inv = make_invalidator(InvalidatorType::zap, g, {.verify_every = 3});
  int checked = 0;
  for (int i = 0; i < 6; ++i) checked += inv->step().content_preserved.has_value() ? 1 : 0;
  EXPECT_EQ(checked, 2);
  auto off = make_invalidator(InvalidatorType::zap, g, {.verify = false});
  EXPECT_FALSE(off->step().content_preserved.has_value());
  EXPECT_FALSE(off->step().verified());
}

// ---- bracketing ----

TEST(Bracket, StartThenEndWithTheExactRangeAndTableUpdatedInside) {
  MemfdRegion g = memfd_guest();
  const uintptr_t cache = g.hva() + 2 * kPageSize;
  RecordingListener listener(&g, cache);
  auto inv = make_invalidator(InvalidatorType::mremap, g,
                              {.cache_hva = cache, .range_size = 3 * kPageSize, .listener = &listener});
  const uint64_t old_off = *g.memfd_offset_of(cache);
  inv->step();
  const auto calls = listener.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[0].start);
  EXPECT_FALSE(calls[1].start);
  for (const auto& c : calls) {
    EXPECT_EQ(c.begin, cache);
    EXPECT_EQ(c.end, cache + 3 * kPageSize);
  }
  EXPECT_EQ(calls[0].offset_seen, old_off);                // still the old page at start
  EXPECT_EQ(calls[1].offset_seen, g.memfd_offset_of(cache));  // the new one by end
  EXPECT_NE(calls[1].offset_seen, old_off);
}

TEST(Bracket, EveryTypeBracketsInBalancedPairs) {
  for (auto type : all_invalidator_types()) {
    for (auto target : {Target::cache, Target::neighbour, Target::unrelated}) {
      MemfdRegion g = memfd_guest();
      if (!probe(type, target, {BackingKind::memfd}).runs_here) continue;
      RecordingListener listener;
      auto inv = make_invalidator(type, g, {.target = target, .listener = &listener});
      for (int i = 0; i < 2; ++i) inv->step();
      const auto calls = listener.calls();
      ASSERT_GE(calls.size(), 4u) << invalidator_name(type);
      ASSERT_EQ(calls.size() % 2, 0u);
      for (size_t i = 0; i < calls.size(); i += 2) {
        EXPECT_TRUE(calls[i].start && !calls[i + 1].start) << invalidator_name(type);
        EXPECT_EQ(calls[i].begin, calls[i + 1].begin);
        EXPECT_EQ(calls[i].end, calls[i + 1].end);
      }
      // The measured operation's bracket is the last pair of each step.
      const HostRange want = (type == InvalidatorType::thp_split || type == InvalidatorType::thp_collapse)
                                 ? inv->plan().chunk
                                 : inv->plan().op;
      EXPECT_EQ((HostRange{calls.back().begin, calls.back().end}), want) << invalidator_name(type);
    }
  }
}

TEST(Bracket, HoldKeepsTheRangeOpenAtLeastThatLong) {
  MemfdRegion g = memfd_guest();
  RecordingListener listener;
  for (Nanos hold : {Nanos(20'000), Nanos(1'000'000)}) {
    auto inv = make_invalidator(InvalidatorType::zap, g, {.hold = hold, .listener = &listener});
    const StepResult r = inv->step();
    EXPECT_GE(r.bracket_ns, static_cast<uint64_t>(hold.count()));
    EXPECT_GE(r.bracket_ns, r.op_ns);
  }
}

}  // namespace
}  // namespace gpc
