#include "pfncache/reader_slots.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pfncache/sync_point.hpp"

namespace gpc::pfncache {
namespace {

using std::chrono::steady_clock;

steady_clock::time_point soon() { return steady_clock::now() + std::chrono::seconds(10); }

TEST(ReaderSlots, NobodyInsideNeedsNoWait) {
  ReaderSlots r;
  EXPECT_FALSE(r.wait_for_readers(soon()));
  const uint32_t a = r.enter();
  const uint32_t b = r.enter();  // nested
  r.leave(b);
  r.leave(a);
  EXPECT_FALSE(r.wait_for_readers(soon()));
}

// The writer must not return while a section that began before it is still open.
TEST(ReaderSlots, WriterWaitsForAnOpenSection) {
  ReaderSlots r;
  std::atomic<bool> inside{false}, release{false}, writer_done{false};
  std::atomic<bool> left{false};
  std::thread reader([&] {
    const uint32_t outer = r.enter();
    const uint32_t inner = r.enter();
    inside = true;
    while (!release) std::this_thread::yield();
    r.leave(inner);  // still inside the outer section
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    left = true;
    r.leave(outer);
  });
  while (!inside) std::this_thread::yield();
  std::atomic<uint64_t> waits{0};
  std::thread writer([&] {
    EXPECT_TRUE(r.wait_for_readers(soon(), &waits));
    // Only the end of the outermost section may release the writer.
    EXPECT_TRUE(left.load());
    writer_done = true;
  });
  EXPECT_TRUE(eventually([&] { return waits.load() > 0 || writer_done.load(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(writer_done.load());
  release = true;
  reader.join();
  writer.join();
  EXPECT_TRUE(writer_done.load());
}

// Readers that keep re-entering must not starve the writer: it waits only for the
// sections it saw, as synchronize_srcu() does.
TEST(ReaderSlots, BusyReadersDoNotStarveTheWriter) {
  ReaderSlots r;
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&] {
      ready.fetch_add(1);
      while (!stop) r.leave(r.enter());
    });
  while (ready.load() < 3) std::this_thread::yield();
  const auto until = steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; i < 200; ++i) {
    r.wait_for_readers(until);
    ASSERT_LT(steady_clock::now(), until) << "writer starved by re-entering readers";
  }
  stop = true;
  for (auto& t : readers) t.join();
}

// More threads than slots: the rest share one counter and are still waited for.
TEST(ReaderSlots, ThreadsBeyondTheSlotsAreWaitedFor) {
  ReaderSlots r;
  const int n = static_cast<int>(ReaderSlots::kSlots) + 4;
  std::atomic<int> entered{0};
  std::atomic<bool> release{false}, writer_done{false};
  std::atomic<int> open{n};
  std::vector<std::thread> readers;
  for (int t = 0; t < n; ++t)
    readers.emplace_back([&] {
      const uint32_t s = r.enter();
      entered.fetch_add(1);
      while (!release) std::this_thread::yield();
      open.fetch_sub(1);
      r.leave(s);
    });
  while (entered.load() < n) std::this_thread::yield();
  std::atomic<uint64_t> waits{0};
  std::thread writer([&] {
    EXPECT_TRUE(r.wait_for_readers(soon(), &waits));
    EXPECT_EQ(open.load(), 0);
    writer_done = true;
  });
  EXPECT_TRUE(eventually([&] { return waits.load() > 0 || writer_done.load(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(writer_done.load());
  release = true;
  for (auto& t : readers) t.join();
  writer.join();
}

}  // namespace
}  // namespace gpc::pfncache
