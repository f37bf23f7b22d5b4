#include "trace/evidence_counters.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "trace/host_ops.hpp"

namespace gpc::trace {
namespace {

TEST(MatchOps, EventsCountOnlyInsideTheirOwnThreadsOperation) {
  // Thread 7 does ops [100,200] and [300,400]; thread 8 does [150,250].
  const std::vector<HostOp> ops = {{7, 100, 200, 0}, {7, 300, 400, 0}, {8, 150, 250, 1}};
  const std::vector<UnmapEvent> events = {
      {120, 7, 0, 0},  // op 1, delay 20
      {130, 7, 0, 0},  // op 1 again: counts, but the delay is the first one's
      {260, 7, 0, 0},  // between thread 7's ops: nobody's
      {390, 7, 0, 0},  // op 2, delay 90
      {180, 9, 0, 0},  // a thread with no ops (a vCPU, khugepaged...)
      {160, 8, 0, 0},  // thread 8's op, delay 10 (inside thread 7's op 1 in time: other thread)
  };
  const OpMatch m = match_ops(events, ops);
  EXPECT_EQ(m.ops, 3u);
  EXPECT_EQ(m.ops_reaching_kvm, 3u);
  EXPECT_EQ(m.events_in_ops, 4u);
  EXPECT_EQ(m.delay_ns.count(), 3u);
  EXPECT_EQ(m.delay_ns.min(), 10u);
  EXPECT_EQ(m.delay_ns.max(), 90u);
}

TEST(MatchOps, AnOperationThatNeverReachedKvmCountsAsSuch) {
  const OpMatch m = match_ops({{150, 7, 0, 0}}, {{7, 100, 200, 0}, {7, 300, 400, 0}});
  EXPECT_EQ(m.ops, 2u);
  EXPECT_EQ(m.ops_reaching_kvm, 1u);
  EXPECT_EQ(m.events_in_ops, 1u);
}

TEST(CountOverlapping, RangesTouchingTheCachePageOnly) {
  const uint64_t page = 0x200000;
  const std::vector<UnmapEvent> events = {
      {0, 0, page, page + 4096},             // the page
      {0, 0, page - 4096, page},             // ends where it begins: no
      {0, 0, page + 4096, page + 8192},      // the next page: no
      {0, 0, page - 0x100000, page + 4096},  // a large range over it
  };
  EXPECT_EQ(count_overlapping(events, page, 4096), 2u);
}

TEST(ExitReason, TakenFromTheKernelsRendering) {
  EXPECT_EQ(exit_reason_from_text("vcpu 0 reason EXTERNAL_INTERRUPT rip 0xffff info1 0x0"), "EXTERNAL_INTERRUPT");
  EXPECT_EQ(exit_reason_from_text("reason msr rip 0x1"), "msr");
  EXPECT_EQ(exit_reason_from_text("reason IO_INSTRUCTION"), "IO_INSTRUCTION");
  EXPECT_EQ(exit_reason_from_text("vcpu 0 rip 0x1"), "");
  EXPECT_EQ(exit_counter_name("EPT_VIOLATION"), "ktrace_exit_ept_violation");
  EXPECT_EQ(exit_counter_name("npf/x"), "ktrace_exit_npf_x");
}

TEST(HostOpLog, EachSlotKeepsItsThreadsOpsUpToItsCapacity) {
  HostOpLog log(2, 3);
  std::thread a([&] {
    for (uint64_t i = 0; i < 5; ++i) log.record(0, i, i + 1);
  });
  std::thread b([&] { log.record(1, 10, 20); });
  a.join();
  b.join();
  const auto ops = log.ops();
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(log.dropped(), 2u);
  EXPECT_NE(ops[0].tid, ops[3].tid);
  EXPECT_EQ(ops[3].slot, 1u);
  EXPECT_EQ(ops[3].begin_ns, 10u);
}

}  // namespace
}  // namespace gpc::trace
