// The reader guest (layer E's consumer) against a reference host writer: it accepts a
// clean stream; counts lost, torn and repeated events when the writer injects them; tells
// a re-seen event (its own ack was lost) from a repeated one; checks the versioned record;
// and idles through GPC_IDLE_PORT instead of spinning.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "gpc_guest/abi.h"
#include "gpc_guest/event_page.h"
#include "kvm/guest_vm.hpp"
#include "kvm/kvm_test_support.hpp"
#include "kvm/vcpu_supervisor.hpp"

namespace gpc::kvm {
namespace {

using namespace std::chrono_literals;

enum class Fault { None, SkipSeq, BadChecksum };
constexpr size_t kRecordOffset = 1024;

bool wait_for_ack(gpc_event_slot& slot, uint64_t seq) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (__atomic_load_n(&slot.ack_seq, __ATOMIC_ACQUIRE) != seq) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();  // the vCPU thread may share this PU
  }
  return true;
}

// Publishes event `seq` on `channel` with payload word 0 = `word0` (the rest the reference
// payload), checksum XOR `corrupt`, then seq, then the pending bit: the page protocol.
void publish(gpc_event_page* page, uint32_t channel, uint64_t seq, uint64_t word0, uint64_t corrupt = 0) {
  gpc_event_slot& slot = page->slot[channel];
  slot.payload[0] = word0;
  for (uint32_t i = 1; i < GPC_EVENT_PAYLOAD_WORDS; ++i) slot.payload[i] = gpc_event_payload_word(channel, seq, i);
  slot.checksum = gpc_event_checksum(channel, seq, slot.payload) ^ corrupt;
  __atomic_store_n(&slot.seq, seq, __ATOMIC_RELEASE);
  __atomic_fetch_or(&page->pending, uint64_t{1} << channel, __ATOMIC_RELEASE);
}

// Posts `count` events on `channel`, each after the previous one's ack; `fault` is applied
// to event number `fault_at`. Returns false if the reader stopped acknowledging.
bool post_events(gpc_event_page* page, uint32_t channel, uint64_t count, Fault fault, uint64_t fault_at) {
  gpc_event_slot& slot = page->slot[channel];
  uint64_t seq = __atomic_load_n(&slot.seq, __ATOMIC_ACQUIRE);
  for (uint64_t n = 1; n <= count; ++n) {
    if (!wait_for_ack(slot, seq)) return false;
    seq += (fault == Fault::SkipSeq && n == fault_at) ? 2 : 1;
    publish(page, channel, seq, gpc_event_payload_word(channel, seq, 0),
            (fault == Fault::BadChecksum && n == fault_at) ? 1 : 0);
  }
  return wait_for_ack(slot, seq);
}

// One reader guest on one event page (data slot page 0), run on an unpinned vCPU thread.
class ReaderRun {
 public:
  explicit ReaderRun(uint64_t record_offset = 0, uint64_t idle_us = 0) : g_(kvm_, {"reader", 1, nullptr}) {
    page_ = static_cast<gpc_event_page*>(g_.data_hva(0));
    page_->magic = GPC_EVENT_MAGIC;
    gpc_guest_boot& b = g_.boot(0);
    b.event_gpa = GuestVm::data_gpa(0);
    b.event_pages = 1;
    b.record_offset = record_offset;
    b.idle_us = idle_us;
    t_.start({});
  }
  gpc_event_page* page() { return page_; }
  gpc_versioned_record* record() {
    return reinterpret_cast<gpc_versioned_record*>(reinterpret_cast<char*>(page_) + kRecordOffset);
  }
  // Stops the guest and returns its REPORT values (empty, with a test failure, otherwise).
  std::vector<uint64_t> finish(VcpuRunResult* out = nullptr) {
    g_.request_guest_stop();
    if (!t_.wait(10s)) t_.kick();
    VcpuRunResult r = t_.take_result();
    EXPECT_EQ(r.outcome, VcpuOutcome::Done) << r.message;
    std::vector<uint64_t> values = r.report ? r.report->values : std::vector<uint64_t>{};
    EXPECT_EQ(values.size(), static_cast<size_t>(GPC_RD_COUNT));
    if (out) *out = std::move(r);
    return values;
  }

 private:
  Kvm kvm_;
  GuestVm g_;
  gpc_event_page* page_ = nullptr;
  VcpuThread t_{g_.vcpu(0), -1};
};

std::vector<uint64_t> run_reader(uint64_t count, Fault fault) {
  ReaderRun run;
  bool ok = true;
  for (uint32_t ch = 0; ch < 2; ++ch)
    ok = post_events(run.page(), ch, count, ch == 1 ? fault : Fault::None, count / 2) && ok;
  EXPECT_TRUE(ok) << "the reader stopped acknowledging events";
  std::vector<uint64_t> c = run.finish();
  if (c.size() != GPC_RD_COUNT) c.assign(GPC_RD_COUNT, ~uint64_t{0});
  return c;
}

TEST(ReaderGuest, CleanStreamHasNoViolations) {
  GPC_REQUIRE_KVM();
  const auto c = run_reader(50, Fault::None);
  EXPECT_EQ(c[GPC_RD_EVENTS], 100u);
  EXPECT_EQ(c[GPC_RD_LOST] + c[GPC_RD_REPEATED] + c[GPC_RD_OUT_OF_ORDER] + c[GPC_RD_TORN], 0u);
  EXPECT_EQ(c[GPC_RD_REACKS], 0u);
}

TEST(ReaderGuest, CountsALostEvent) {
  GPC_REQUIRE_KVM();
  const auto c = run_reader(40, Fault::SkipSeq);
  EXPECT_EQ(c[GPC_RD_LOST], 1u);
  EXPECT_EQ(c[GPC_RD_TORN], 0u);
}

TEST(ReaderGuest, CountsATornEventAndGoesOn) {
  GPC_REQUIRE_KVM();
  const auto c = run_reader(40, Fault::BadChecksum);
  EXPECT_EQ(c[GPC_RD_TORN], 1u);
  EXPECT_EQ(c[GPC_RD_LOST], 0u);
  EXPECT_EQ(c[GPC_RD_EVENTS], 79u) << "every event but the torn one is accepted";
}

// When the host moves the page between the guest's ack and the move, the ack is lost and
// the guest sees the same event again: a re-ack, not a violation. The same seq with another
// payload is a repeated event: a writer that posted through a stale mapping.
TEST(ReaderGuest, TellsAReseenEventFromARepeatedOne) {
  GPC_REQUIRE_KVM();
  ReaderRun run;
  gpc_event_slot& slot = run.page()->slot[0];
  publish(run.page(), 0, 1, 1001);
  ASSERT_TRUE(wait_for_ack(slot, 1));
  __atomic_store_n(&slot.ack_seq, 0, __ATOMIC_RELEASE);  // the lost ack
  ASSERT_TRUE(wait_for_ack(slot, 1));
  __atomic_store_n(&slot.ack_seq, 0, __ATOMIC_RELEASE);
  publish(run.page(), 0, 1, 1002);  // seq 1 again, another post
  ASSERT_TRUE(wait_for_ack(slot, 1));
  const auto c = run.finish();
  ASSERT_EQ(c.size(), static_cast<size_t>(GPC_RD_COUNT));
  EXPECT_EQ(c[GPC_RD_EVENTS], 1u);
  EXPECT_EQ(c[GPC_RD_REACKS], 1u);
  EXPECT_EQ(c[GPC_RD_REPEATED], 1u);
  EXPECT_EQ(c[GPC_RD_LOST] + c[GPC_RD_OUT_OF_ORDER] + c[GPC_RD_TORN], 0u);
}

// Each record state is held until two events posted after it were acked: the sweep that
// acks the second one began after the state was written, so the guest has read it.
TEST(ReaderGuest, ChecksTheVersionedRecord) {
  GPC_REQUIRE_KVM();
  ReaderRun run(kRecordOffset);
  gpc_versioned_record* rec = run.record();
  auto set = [&](uint64_t counter, uint64_t data) {
    rec->version = 2 * counter + 1;
    rec->counter = counter;
    rec->data = data;
    __atomic_store_n(&rec->version, 2 * counter + 2, __ATOMIC_RELEASE);
    ASSERT_TRUE(post_events(run.page(), 0, 2, Fault::None, 0));
  };
  set(5, gpc_record_data(5));
  set(6, gpc_record_data(6) ^ 1);  // data from no update: torn
  set(3, gpc_record_data(3));      // counter behind the last good one: backwards
  const auto c = run.finish();
  ASSERT_EQ(c.size(), static_cast<size_t>(GPC_RD_COUNT));
  EXPECT_GE(c[GPC_RD_RECORDS], 2u);
  EXPECT_GE(c[GPC_RD_TORN], 1u);
  EXPECT_EQ(c[GPC_RD_BACKWARDS], 1u);
  EXPECT_EQ(c[GPC_RD_EVENTS], 6u);
}

TEST(ReaderGuest, IdlesThroughTheIdlePortWhenNothingIsPosted) {
  GPC_REQUIRE_KVM();
  ReaderRun run(0, 200);
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(post_events(run.page(), 0, 5, Fault::None, 0));
  VcpuRunResult r;
  const auto c = run.finish(&r);
  ASSERT_EQ(c.size(), static_cast<size_t>(GPC_RD_COUNT));
  EXPECT_EQ(c[GPC_RD_EVENTS], 5u);
  EXPECT_GT(r.idle_exits, 0u);
  EXPECT_LT(r.idle_exits, c[GPC_RD_SWEEPS] + 1) << "one idle exit at most per empty sweep";
  // Sleeping 200 us per empty sweep, the thread cannot have been busy all the time.
  EXPECT_LT(r.cpu_ns, r.elapsed_ns);
}

}  // namespace
}  // namespace gpc::kvm
