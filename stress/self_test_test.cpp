#include "stress/self_test.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace gpc::stress {
namespace {

std::string run_captured(const SelfTestOptions& o, int& rc) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  rc = run_self_test(o, f);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

// The in-process part: every race caught when broken, none flagged when faithful, the
// livelock caught under global filtering and absent under range filtering.
TEST(SelfTest, InProcessDetectorsCatchEveryBrokenVariant) {
  SelfTestOptions o;
  o.tap = true;
  int rc = -1;
  const std::string out = run_captured(o, rc);
  EXPECT_EQ(rc, 0) << out;
  for (pfncache::Bug bug : pfncache::historical_races()) {
    const std::string name(to_string(bug));
    EXPECT_NE(out.find("race " + name + ": faithful model not flagged"), std::string::npos) << out;
    EXPECT_NE(out.find("race " + name + ": broken variant caught by "), std::string::npos) << out;
  }
  EXPECT_NE(out.find("livelock busy/global: starved refresh caught"), std::string::npos) << out;
  EXPECT_NE(out.find("livelock block/range: refresh not starved"), std::string::npos) << out;
  EXPECT_NE(out.find("# SKIP no runner binary"), std::string::npos) << out;
  EXPECT_EQ(out.find("not ok"), std::string::npos) << out;
  // Plan: 2 per race, 2 per wait strategy, 1 for the skipped scenario detector.
  const size_t points = 2 * pfncache::historical_races().size() + 8 + 1;
  EXPECT_NE(out.find("1.." + std::to_string(points) + "\n"), std::string::npos) << out;
}

TEST(SelfTest, DetectorNamesWhatFired) {
  pfncache::RaceOutcome o;
  EXPECT_EQ(detector_of(o), "nothing");
  o.contract.stale = 2;
  o.audit.valid_while_inactive = true;
  EXPECT_EQ(detector_of(o), "contract checker (stale=2) + model audit (valid_while_inactive)");
  pfncache::RaceOutcome d;
  d.refresh = pfncache::RefreshResult::kDeadlock;
  EXPECT_EQ(detector_of(d), "deadlock detector");
}

}  // namespace
}  // namespace gpc::stress
