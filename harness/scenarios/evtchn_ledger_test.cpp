#include "scenarios/evtchn_ledger.hpp"

#include <gtest/gtest.h>

#include "gpc_guest/abi.h"
#include "invalidators/invalidator.hpp"

namespace gpc::scenarios {
namespace {

// A step that began: what InvalidatorConfig::step_marker holds while one step runs.
constexpr uint64_t kOneStepBusy = kStepMarkerBegin;
constexpr uint64_t kOneStepDone = kStepMarkerBegin + kStepMarkerEnd;

// Sends `n` events on channel 0 with no invalidator step anywhere (marker always 0).
void send_clean(EvtchnLedger& l, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(l.may_send(0, false, 0));
    l.sent(0, 0);
  }
}

TEST(EvtchnLedger, EverySendDeliveredOnceIsClean) {
  EvtchnLedger l(2);
  send_clean(l, 5);
  EXPECT_FALSE(l.may_send(0, true, 0)) << "a still-pending bit defers the send";
  l.finish(0);
  l.delivered(0, 5, 0);
  const EvtchnCounts& c = l.channel(0);
  EXPECT_EQ(c.sent, 5u);
  EXPECT_EQ(c.deferred, 1u);
  EXPECT_EQ(c.lost(), 0u);
  EXPECT_EQ(c.duplicated(), 0u);
  EXPECT_EQ(c.sends_at_risk, 0u);
  EXPECT_EQ(l.violations(), 0u);
}

TEST(EvtchnLedger, FlagsALostEventWhenNoStepOverlappedIt) {
  EvtchnLedger l(1);
  send_clean(l, 5);
  l.finish(0);
  l.delivered(0, 4, 0);
  EXPECT_EQ(l.channel(0).lost(), 1u);
  EXPECT_EQ(l.channel(0).unexplained_lost(), 1u);
  EXPECT_EQ(l.violations(), 1u);
}

TEST(EvtchnLedger, FlagsADuplicatedDeliveryWhenNoConsumeWasAtRisk) {
  EvtchnLedger l(1);
  send_clean(l, 4);
  l.finish(0);
  l.delivered(0, 5, 0);
  EXPECT_EQ(l.channel(0).duplicated(), 1u);
  EXPECT_EQ(l.violations(), 1u);
  EvtchnLedger explained(1);
  send_clean(explained, 4);
  explained.finish(0);
  explained.delivered(0, 5, 1);  // the guest's consume overlapped a copying step
  EXPECT_EQ(explained.violations(), 0u);
  EXPECT_EQ(explained.channel(0).duplicated(), 1u) << "still reported";
}

TEST(EvtchnLedger, ALossIsExplainedOnlyByAStepDuringThatEventsOutstandingTime) {
  // A step began after the send and had ended by the time the bit was seen clear.
  EvtchnLedger l(1);
  ASSERT_TRUE(l.may_send(0, false, 0));
  l.sent(0, 0);
  ASSERT_TRUE(l.may_send(0, false, kOneStepDone));
  l.sent(0, kOneStepDone);
  l.finish(kOneStepDone);
  l.delivered(0, 1, 0);
  EXPECT_EQ(l.channel(0).sends_at_risk, 1u);
  EXPECT_EQ(l.channel(0).lost(), 1u);
  EXPECT_EQ(l.violations(), 0u);

  // A step in progress at the send counts even if the marker has not moved since.
  EvtchnLedger busy(1);
  ASSERT_TRUE(busy.may_send(0, false, kOneStepBusy));
  busy.sent(0, kOneStepBusy);
  busy.finish(kOneStepBusy);
  busy.delivered(0, 0, 0);
  EXPECT_EQ(busy.violations(), 0u);

  // Two losses but only one send at risk: one is the kernel's.
  EvtchnLedger two(1);
  ASSERT_TRUE(two.may_send(0, false, 0));
  two.sent(0, 0);
  ASSERT_TRUE(two.may_send(0, false, kOneStepDone));
  two.sent(0, kOneStepDone);
  ASSERT_TRUE(two.may_send(0, false, kOneStepDone));
  two.sent(0, kOneStepDone);
  two.finish(kOneStepDone);
  two.delivered(0, 1, 0);
  EXPECT_EQ(two.channel(0).unexplained_lost(), 1u);
  EXPECT_EQ(two.violations(), 1u);
}

TEST(EvtchnLedger, ALossOnOneChannelAndADuplicateOnAnotherDoNotCancel) {
  EvtchnLedger l(2);
  for (size_t ch : {size_t{0}, size_t{1}}) {
    ASSERT_TRUE(l.may_send(ch, false, 0));
    l.sent(ch, 0);
  }
  l.finish(0);
  l.delivered(0, 0, 0);
  l.delivered(1, 2, 0);
  EXPECT_EQ(l.total().sent, l.total().delivered) << "the totals balance";
  EXPECT_EQ(l.violations(), 2u) << "but each channel is judged on its own";
}

}  // namespace
}  // namespace gpc::scenarios
