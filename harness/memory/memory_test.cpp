#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "common/errors.hpp"
#include "memory/anon_region.hpp"
#include "memory/memfd_region.hpp"
#include "memory/numa_placement.hpp"
#include "memory/pagemap.hpp"
#include "memory/thp_modes.hpp"

namespace gpc {
namespace {

// True when /proc/self/maps still lists a mapping starting at `addr`.
bool mapped(uintptr_t addr) {
  unsigned char vec = 0;
  return mincore(reinterpret_cast<void*>(addr), kPageSize, &vec) == 0;
}

TEST(ThpModes, ParsesTheBracketedWord) {
  EXPECT_EQ(active_thp_mode("always [madvise] never"), "madvise");
  EXPECT_EQ(active_thp_mode("always within_size advise [never] deny force"), "never");
  EXPECT_EQ(active_thp_mode("garbage"), "");
}

TEST(Backing, ParseNamesValidValues) {
  EXPECT_EQ(parse_backing("memfd"), BackingKind::memfd);
  EXPECT_EQ(parse_backing("anon"), BackingKind::anonymous);
  try {
    parse_backing("hugetlb");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("anon, memfd"), std::string::npos);
  }
}

TEST(AnonRegion, AlignedUsableAndUnmappedOnDestruction) {
  uintptr_t base = 0;
  {
    AnonRegion r({.size = 3 * kPageSize + 1});
    base = r.hva();
    EXPECT_EQ(base % kHugePageSize, 0u);
    EXPECT_EQ(r.size(), 4 * kPageSize);
    std::memset(r.data(), 0x5a, r.size());
    EXPECT_EQ(r.data()[r.size() - 1], 0x5a);
    EXPECT_TRUE(mapped(base));
    EXPECT_EQ(r.backing_lookup(), nullptr);
  }
  EXPECT_FALSE(mapped(base));
}

TEST(AnonRegion, ZeroSizeIsAUsageError) { EXPECT_THROW(AnonRegion({.size = 0}), UsageError); }

TEST(AnonRegion, HugepageGivesPmdMappedThp) {
  if (!read_thp_modes().anon_madvise_works()) GTEST_SKIP() << "anonymous THP disabled on this machine";
  Pagemap pm;
  if (!pm.pmd_mapping_readable()) GTEST_SKIP() << "PAGEMAP_SCAN unavailable (kernel < 6.7): PMD mapping unknown";
  AnonRegion r({.size = kHugePageSize, .hugepage = true});
  const PageInfo info = pm.read(r.hva() + 5 * kPageSize);
  ASSERT_TRUE(info.present);
  if (!info.pmd_mapped.value()) {
    GTEST_SKIP() << "the kernel could not allocate a huge page now (fragmented memory)";
  }
  // Splitting the PMD by zapping one 4 KB page leaves the others PTE-mapped.
  ASSERT_EQ(madvise(r.data() + kPageSize, kPageSize, MADV_DONTNEED), 0);
  EXPECT_FALSE(pm.read(r.hva() + 5 * kPageSize).pmd_mapped.value());
  if (pm.pfns_readable() && pm.kpageflags_readable()) {
    EXPECT_TRUE(info.thp.value());
  }
}

TEST(MemfdRegion, TableStartsAsIdentityAndLooksUpOffsets) {
  MemfdRegion r({.size = 4 * kPageSize, .spare_pages = 3});
  EXPECT_GE(r.memfd(), 0);
  EXPECT_EQ(r.page_count(), 4u);
  EXPECT_EQ(r.memfd_offset_of(r.hva() + 2 * kPageSize + 17), 2 * kPageSize);
  EXPECT_EQ(r.memfd_offset_of(r.hva() + r.size()), std::nullopt);
  EXPECT_EQ(r.memfd_offset_of(r.hva() - 1), std::nullopt);
  r.set_page_offset(1, MemfdRegion::kUnmapped);
  EXPECT_EQ(r.memfd_offset_of(r.hva() + kPageSize), std::nullopt);
  EXPECT_THROW(r.page_index(r.hva() + r.size()), UsageError);
}

TEST(MemfdRegion, SparePoolHandsOutContiguousRunsBeyondTheGuest) {
  MemfdRegion r({.size = 2 * kPageSize, .spare_pages = 3});
  EXPECT_EQ(r.spare_free_pages(), 3u);
  EXPECT_EQ(r.take_spare(4), std::nullopt);
  auto a = r.take_spare(2);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 2 * kPageSize);
  EXPECT_EQ(r.take_spare(2), std::nullopt);  // only one page left
  r.give_back(*a, 2);
  EXPECT_EQ(r.spare_free_pages(), 3u);
}

TEST(MemfdRegion, TheGuestMappingIsTheFileAtTheTableOffset) {
  MemfdRegion r({.size = 2 * kPageSize});
  std::memcpy(r.data() + kPageSize, "hello", 6);
  char buf[6] = {};
  ASSERT_EQ(pread(r.memfd(), buf, 6, static_cast<off_t>(*r.memfd_offset_of(r.hva() + kPageSize))), 6);
  EXPECT_STREQ(buf, "hello");
}

TEST(MemfdRegion, SecondMappingSharesThePfn) {
  Pagemap pm;
  if (!pm.pfns_readable()) GTEST_SKIP() << "PFNs read as 0 without CAP_SYS_ADMIN: unverified";
  MemfdRegion r({.size = kPageSize});
  void* view = mmap(nullptr, kPageSize, PROT_READ, MAP_SHARED, r.memfd(), 0);
  ASSERT_NE(view, MAP_FAILED);
  (void)*static_cast<volatile char*>(view);
  const auto a = pm.read(r.hva()), b = pm.read(view);
  munmap(view, kPageSize);
  ASSERT_TRUE(a.pfn && b.pfn);
  EXPECT_NE(*a.pfn, 0u);
  EXPECT_EQ(*a.pfn, *b.pfn);
  EXPECT_TRUE(a.file_or_shared);
}

TEST(Pagemap, UntouchedPageIsNotPresent) {
  Pagemap pm;
  AnonRegion r({.size = 2 * kPageSize, .prefault = false});
  EXPECT_FALSE(pm.read(r.hva()).present);
  r.data()[0] = 1;
  const PageInfo info = pm.read(r.hva());
  EXPECT_TRUE(info.present);
  EXPECT_TRUE(info.exclusive);
  EXPECT_EQ(info.pfn.has_value(), pm.pfns_readable());
}

TEST(Numa, BindToNodeZeroAndRejectMissingNode) {
  EXPECT_GE(numa_node_count(), 1);
  AnonRegion r({.size = 2 * kPageSize, .numa_node = 0});
  EXPECT_EQ(node_of_page(r.data()), 0);
  EXPECT_THROW(AnonRegion({.size = kPageSize, .numa_node = numa_node_count()}), UsageError);
}

}  // namespace
}  // namespace gpc
