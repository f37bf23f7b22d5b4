#include "common/histogram.hpp"

#include <gtest/gtest.h>

#include <random>

namespace gpc {
namespace {

TEST(LogLinear, BucketBoundsContainTheirValues) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const uint32_t b = gpc_ll_bucket(v);
    ASSERT_LT(b, GPC_LL_BUCKETS);
    ASSERT_LE(gpc_ll_bucket_low(b), v);
    ASSERT_GE(gpc_ll_bucket_high(b), v);
  }
  EXPECT_EQ(gpc_ll_bucket(UINT64_MAX), GPC_LL_BUCKETS - 1);
}

TEST(LogLinear, BucketsAreContiguousAndRelativeErrorIsBounded) {
  for (uint32_t b = 1; b < GPC_LL_BUCKETS; ++b) {
    ASSERT_EQ(gpc_ll_bucket_low(b), gpc_ll_bucket_high(b - 1) + 1) << b;
    if (b < GPC_LL_SUB_COUNT) continue;  // the linear range is exact: one value per bucket
    const double low = static_cast<double>(gpc_ll_bucket_low(b));
    const double width = static_cast<double>(gpc_ll_bucket_high(b)) - low + 1;
    ASSERT_LE(width / std::max(low, 1.0), 1.0 / GPC_LL_SUB_COUNT + 1e-12) << b;
  }
}

TEST(Histogram, QuantilesOfAUniformSequence) {
  Histogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 10000u);
  EXPECT_NEAR(h.mean(), 5000.5, 1e-9);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.5)), 5000, 5000 * 0.032);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.99)), 9900, 9900 * 0.032);
  EXPECT_EQ(h.quantile(1.0), 10000u);
  EXPECT_EQ(h.quantile(0.0), 1u);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t v = 0; v < 5000; ++v) {
    (v % 3 ? a : b).record(v * 37);
    all.record(v * 37);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.nonzero(), all.nonzero());
  EXPECT_EQ(a.quantile(0.999), all.quantile(0.999));
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
}

TEST(Histogram, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_TRUE(h.nonzero().empty());
}

TEST(Histogram, AddBucketDecodesAGuestRecordedHistogram) {
  Histogram guest_layout;
  guest_layout.add_bucket(gpc_ll_bucket(1000), 3);
  EXPECT_EQ(guest_layout.count(), 3u);
  EXPECT_EQ(guest_layout.quantile(0.5), gpc_ll_bucket_high(gpc_ll_bucket(1000)));
}

}  // namespace
}  // namespace gpc
