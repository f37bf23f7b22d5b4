// Holds and rate waits end on a stop request, and a hold that cannot fit in a run is refused
// (issue 15 item 8: `--duration 1s --hold 10m` ignored Ctrl-C for about 10 minutes).
#include "invalidators/hold.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/errors.hpp"
#include "common/stop.hpp"

namespace gpc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Liveness bounds are generous (seconds): the machine is shared, only "not minutes" matters.
constexpr auto kWakeBound = 5s;

TEST(Hold, ShortHoldLastsItsTime) {
  const auto t0 = Clock::now();
  EXPECT_TRUE(hold_for(1ms));
  EXPECT_GE(Clock::now() - t0, 1ms);
}

TEST(Hold, LongHoldEndsOnTheRunnersStopFlag) {
  std::atomic<bool> stop{false};
  std::thread setter([&] {
    std::this_thread::sleep_for(50ms);
    stop.store(true);
  });
  const auto t0 = Clock::now();
  const bool full = hold_for(std::chrono::minutes(10), &stop);
  const auto took = Clock::now() - t0;
  setter.join();
  EXPECT_FALSE(full);
  EXPECT_LT(took, kWakeBound);
}

TEST(Hold, LongHoldEndsOnAStopRequest) {
  reset_stop();
  std::thread requester([] {
    std::this_thread::sleep_for(50ms);
    request_stop();
  });
  const auto t0 = Clock::now();
  const bool full = hold_for(std::chrono::minutes(10));
  const auto took = Clock::now() - t0;
  requester.join();
  reset_stop();
  EXPECT_FALSE(full);
  EXPECT_LT(took, kWakeBound);
}

TEST(Hold, AHoldThatDoesNotFitTheRunIsRefused) {
  EXPECT_NO_THROW(check_hold_fits(1ms, 1s, 2s));
  EXPECT_THROW(check_hold_fits(3s, 1s, 2s), UsageError);
  EXPECT_THROW(check_hold_fits(1s, 1s), UsageError);
  EXPECT_THROW(check_hold_fits(std::chrono::minutes(10), 1s), UsageError);
  try {
    check_hold_fits(3s, 10s, 2s);
    FAIL() << "a hold longer than the refresh bound was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--hold"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bound"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gpc
