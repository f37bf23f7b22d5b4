#include "pfncache/policy.hpp"

#include <filesystem>
#include <fstream>

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
                 Bug::kDeactivateInRefresh, Bug::kInnerContinue, Bug::kEndErrorPfn,
                 Bug::kRefreshBeforeActive, Bug::kRunstateBlockingLock})
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

// Issue 12 item 7: halt_poll_ns_shrink is 2 by default since aeb1b22a3ac8 (6.11); the
// running kernel's kvm.halt_poll_ns* parameters override the defaults where readable.
TEST(HaltPollParams, DefaultsAreThoseOf611AndLater) {
  const HaltPollParams h;
  EXPECT_EQ(h.shrink, 2u);
  EXPECT_EQ(h.grow, 2u);
  EXPECT_EQ(h.start_ns, 10'000u);
  EXPECT_EQ(h.max_ns, 200'000u);
}

TEST(HaltPollParams, ReadFromTheKernelsModuleParameters) {
  const std::string dir = ::testing::TempDir() + "/gpc-halt-poll-params";
  std::filesystem::create_directories(dir);
  auto put = [&](const char* name, const char* v) { std::ofstream(dir + "/" + name) << v << "\n"; };
  put("halt_poll_ns", "150000");
  put("halt_poll_ns_grow", "3");
  put("halt_poll_ns_grow_start", "20000");
  put("halt_poll_ns_shrink", "0");
  KernelHaltPoll k = halt_poll_from_kernel(dir);
  EXPECT_EQ(k.params.max_ns, 150'000u);
  EXPECT_EQ(k.params.grow, 3u);
  EXPECT_EQ(k.params.start_ns, 20'000u);
  EXPECT_EQ(k.params.shrink, 0u);
  EXPECT_EQ(k.source, dir);
  std::filesystem::remove(dir + "/halt_poll_ns_shrink");
  k = halt_poll_from_kernel(dir);
  EXPECT_EQ(k.params.shrink, 2u);  // the default for the one missing
  EXPECT_NE(k.source.find("halt_poll_ns_shrink"), std::string::npos) << k.source;
  std::filesystem::remove_all(dir);
  k = halt_poll_from_kernel(dir);
  EXPECT_EQ(k.params.max_ns, 200'000u);
  EXPECT_NE(k.source.find("not readable"), std::string::npos) << k.source;
  EXPECT_EQ(describe(k.params), "halt_poll_ns=200000 grow=2 grow_start=10000 shrink=2");
}

}  // namespace
}  // namespace gpc::pfncache
