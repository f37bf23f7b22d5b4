#include "pfncache/policy.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace gpc::pfncache {
namespace {

TEST(Policy, NamesRoundTrip) {
  for (auto w : {WaitKind::kBusy, WaitKind::kSpin, WaitKind::kHaltPoll, WaitKind::kBlock})
    EXPECT_EQ(parse_wait(to_string(w)), w);
  for (auto h : {Hook::kStart, Hook::kEnd}) EXPECT_EQ(parse_hook(to_string(h)), h);
  for (auto f : {Filter::kGlobal, Filter::kRange}) EXPECT_EQ(parse_filter(to_string(f)), f);
  for (auto c : {ReaderCheck::kRwlock, ReaderCheck::kLockless})
    EXPECT_EQ(parse_check(to_string(c)), c);
  for (auto b : {Bug::kNone, Bug::kCountAfterInvalidate, Bug::kSpeculativeValid,
                 Bug::kNoRefreshMutex, Bug::kConsumeInactive, Bug::kReinitLock,
                 Bug::kDeactivateInRefresh, Bug::kInnerContinue})
    EXPECT_EQ(parse_bug(to_string(b)), b);
}

TEST(Policy, UnknownNameIsAUsageErrorListingTheChoices) {
  try {
    parse_wait("sleep");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("busy|spin|haltpoll|block"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_hook("middle"), UsageError);
}

TEST(Policy, DescribeAndUnsafeLabel) {
  Policy p;
  p.hook = Hook::kEnd;
  p.wait = WaitKind::kBlock;
  EXPECT_EQ(describe(p), "strategy:block/hook:end/filter:global/check:rwlock");
  EXPECT_TRUE(unsafe_by_design(p));
  p.hook = Hook::kStart;
  EXPECT_FALSE(unsafe_by_design(p));
}

}  // namespace
}  // namespace gpc::pfncache
