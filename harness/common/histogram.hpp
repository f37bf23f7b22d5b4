// Fixed-size log-linear latency histogram (layout in loglinear.h). Recording is one
// bucket computation and three plain stores: no allocation, no lock. One histogram per
// thread; merge them after the threads have joined.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/loglinear.h"

namespace gpc {

class Histogram {
 public:
  void record(uint64_t value) {
    ++buckets_[gpc_ll_bucket(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }
  void merge(const Histogram& other);
  void clear() { *this = Histogram(); }

  // Adds `n` samples to the bucket that holds `value`: for decoding histograms that
  // guests recorded in guest memory (same layout).
  void add_bucket(uint32_t bucket, uint64_t n);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // Value at quantile q in [0,1]: the upper bound of the bucket holding the q-th sample,
  // clamped to the observed max (so p100 == max exactly). 0 when empty.
  uint64_t quantile(double q) const;

  // Non-empty buckets as (bucket upper bound, count), ascending: the serialized form.
  std::vector<std::pair<uint64_t, uint64_t>> nonzero() const;

 private:
  std::array<uint64_t, GPC_LL_BUCKETS> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace gpc
