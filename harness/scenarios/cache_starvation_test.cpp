// Starvation (issue 14 item 4): a refresh that hit its bound is the known livelock of the
// global count, counted in starved_refreshes and kept apart from violations, so the same
// command no longer exits 0 or 1 by luck.
#include <gtest/gtest.h>

#include "scenarios/cache_record.hpp"

namespace gpc::scenarios {
namespace {

TEST(CacheStarvation, ATimedOutRefreshIsStarvedNotAViolation) {
  WriterResult w;
  w.timeouts = 3;
  w.waits = 10;
  w.seconds = 1;
  const WriterTotals totals = sum_writers({w});
  CacheResult out;
  const CacheModelTotals model;
  judge_cache_run(out, totals, model, /*unsafe=*/false);
  EXPECT_EQ(out.violations, 0u) << "a starved refresh was counted as a violation";

  CacheParams p;
  const BenchmarkRecord rec = cache_record(p, out, totals, model, 0, false, false, BenchmarkRecord{});
  EXPECT_EQ(rec.counters.at("starved_refreshes"), 3);
  EXPECT_EQ(rec.counters.at("violations"), 0);
}

TEST(CacheStarvation, AFailedRefreshIsStillAViolation) {
  WriterResult w;
  w.failures = 1;
  const WriterTotals totals = sum_writers({w});
  CacheResult out;
  judge_cache_run(out, totals, CacheModelTotals{}, false);
  EXPECT_EQ(out.violations, 1u);
}

}  // namespace
}  // namespace gpc::scenarios
