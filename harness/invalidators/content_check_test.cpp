#include "invalidators/content_check.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "common/mmu_notifier_listener.hpp"
#include "invalidators/invalidator.hpp"
#include "invalidators/test_support.hpp"
#include "memory/memfd_region.hpp"

namespace gpc {
namespace {

TEST(ContentCheck, ComparesOnlyOutsideTheSkippedRanges) {
  std::array<unsigned char, 64> a{}, b{};
  b[10] = 1;
  b[40] = 2;
  EXPECT_FALSE(same_content_outside(a.data(), b.data(), a.size(), {}));
  EXPECT_FALSE(same_content_outside(a.data(), b.data(), a.size(), {{8, 4}}));
  EXPECT_TRUE(same_content_outside(a.data(), b.data(), a.size(), {{40, 1}, {8, 4}}));   // any order
  EXPECT_TRUE(same_content_outside(a.data(), b.data(), a.size(), {{0, 20}, {5, 50}}));  // overlapping
  b[63] = 3;
  EXPECT_FALSE(same_content_outside(a.data(), b.data(), a.size(), {{0, 50}}));          // the tail counts
  EXPECT_TRUE(same_content_outside(a.data(), b.data(), a.size(), {{0, 50}, {60, 100}}));  // clipped
}

// Stands in for a `run cache` writer: it writes its record on the observed page while the
// step is in progress (deterministically, inside the bracket), as the loaded runs of
// issue 15 did between the invalidator's snapshot and its comparison.
class WritingListener : public MmuNotifierListener {
 public:
  WritingListener(uintptr_t page, size_t offset) : word_(reinterpret_cast<uint64_t*>(page + offset)) {}
  void invalidate_range_start(uintptr_t, uintptr_t) override {}
  void invalidate_range_end(uintptr_t, uintptr_t) override { ++*word_; }

 private:
  uint64_t* word_;
};

TEST(ContentCheck, AConcurrentWriteToDeclaredBytesIsNotLostContent) {
  MemfdRegion guest({.size = 4u << 20, .spare_pages = 16});
  const uintptr_t page = guest.hva();
  test::fill_page(page, 7);
  WritingListener writer(page, 1024);  // cache_page::kRecord, where the writer's record lives
  InvalidatorConfig cfg{.target = Target::cache, .cache_hva = page};
  cfg.listener = &writer;
  cfg.concurrently_written = {{1024, 24}};
  auto zap = make_invalidator(InvalidatorType::zap, guest, cfg);
  for (int i = 0; i < 4; ++i) {
    const StepResult r = zap->step();
    ASSERT_TRUE(r.content_preserved.has_value());
    EXPECT_TRUE(*r.content_preserved) << "step " << i << ": a concurrent write counted as lost content";
  }
}

TEST(ContentCheck, AChangeOutsideTheDeclaredBytesIsStillLostContent) {
  MemfdRegion guest({.size = 4u << 20, .spare_pages = 16});
  const uintptr_t page = guest.hva();
  test::fill_page(page, 7);
  WritingListener writer(page, 2048);  // not declared
  InvalidatorConfig cfg{.target = Target::cache, .cache_hva = page};
  cfg.listener = &writer;
  cfg.concurrently_written = {{1024, 24}};
  auto zap = make_invalidator(InvalidatorType::zap, guest, cfg);
  const StepResult r = zap->step();
  ASSERT_TRUE(r.content_preserved.has_value());
  EXPECT_FALSE(*r.content_preserved);
}

}  // namespace
}  // namespace gpc
