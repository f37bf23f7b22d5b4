#include "topology/pinning.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <string>
#include <thread>

#include "common/errors.hpp"
#include "topology/topology.hpp"

namespace gpc {
namespace {

// Pins a fresh thread (so the test runner's own affinity is untouched) to every PU this
// process may use, and checks the thread then reports that PU.
TEST(Pinning, PinsToEveryAllowedPuAndVerifies) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int tried = 0;
  for (const auto& core : Topology::system().pus_by_core()) {
    for (int pu : core) {
      if (!CPU_ISSET(pu, &allowed)) continue;
      ++tried;
      int reported = -1, after = -1;
      std::string error;
      std::thread t([&] {
        try {
          reported = pin_current_thread(pu);
          after = current_pu();
        } catch (const std::exception& e) {
          error = e.what();
        }
      });
      t.join();
      EXPECT_EQ(error, "");
      EXPECT_EQ(reported, pu);
      EXPECT_EQ(after, pu);
    }
  }
  EXPECT_GE(tried, 1);
}

TEST(Pinning, NonexistentPuIsAUsageError) {
  std::string error;
  std::thread t([&] {
    try {
      pin_current_thread(100000);
    } catch (const UsageError& e) {
      error = e.what();
    }
  });
  t.join();
  EXPECT_NE(error.find("PU 100000 does not exist"), std::string::npos) << error;
}

}  // namespace
}  // namespace gpc
