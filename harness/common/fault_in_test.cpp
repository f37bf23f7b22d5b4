// fault_in() must stay invisible to ThreadSanitizer: it reads a byte that guest writers may
// be writing (CI failed on exactly that race, 2026-12-01). Meaningful only in the tsan
// build, where a reported race ends the process (TSAN_OPTIONS=halt_on_error=1).
#include "common/fault_in.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace gpc {
namespace {

TEST(FaultIn, ConcurrentWritesToThePageAreNotARace) {
#if !defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "meaningful only under the tsan preset (this build has no ThreadSanitizer)";
#else
  alignas(4096) static char page[4096];
  std::atomic<bool> start{false};
  std::thread writer([&] {
    while (!start.load()) {}
    for (int i = 0; i < 100000; ++i) page[0] = static_cast<char>(i);  // a guest's plain writes
  });
  start.store(true);
  for (int i = 0; i < 100000; ++i) fault_in(page);
  writer.join();
  SUCCEED();
#endif
}

}  // namespace
}  // namespace gpc
