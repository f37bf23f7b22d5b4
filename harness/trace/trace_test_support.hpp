// Shared by the trace tests: a tracefs root or a skip with the reason.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "trace/tracefs_root.hpp"

namespace gpc::trace::testing {

// The tracefs this process can use; the caller GTEST_SKIPs with `reason` on nullptr.
inline std::unique_ptr<TracefsRoot> tracefs_or_reason(std::string& reason) {
  return TracefsRoot::open(reason);
}

}  // namespace gpc::trace::testing

#define GPC_REQUIRE_TRACEFS(root)                                                  \
  std::string root##_reason;                                                       \
  auto root = ::gpc::trace::testing::tracefs_or_reason(root##_reason);             \
  if (!root) GTEST_SKIP() << "tracefs is not usable here: " << root##_reason
