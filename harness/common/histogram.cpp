#include "common/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace gpc {

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::add_bucket(uint32_t bucket, uint64_t n) {
  if (bucket >= GPC_LL_BUCKETS || n == 0) return;
  buckets_[bucket] += n;
  count_ += n;
  const uint64_t low = gpc_ll_bucket_low(bucket);
  const uint64_t high = gpc_ll_bucket_high(bucket);
  sum_ += n * (low / 2 + high / 2);  // bucket midpoint: the best a bucketed source allows
  min_ = std::min(min_, low);
  max_ = std::max(max_, high);
}

uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the sample we want, 1-based: ceil(q * count), at least 1.
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  uint64_t seen = 0;
  for (uint32_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(gpc_ll_bucket_high(i), min(), max_);
  }
  return max_;
}

std::vector<std::pair<uint64_t, uint64_t>> Histogram::nonzero() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (uint32_t i = 0; i < buckets_.size(); ++i)
    if (buckets_[i]) out.emplace_back(gpc_ll_bucket_high(i), buckets_[i]);
  return out;
}

}  // namespace gpc
