// The reader guest (layer E's consumer) against a reference host writer: it accepts a
// clean stream and counts lost and torn events when the writer injects them.
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

// Posts `count` events on `channel` following the page protocol; `fault` is applied to
// event number `fault_at`. Returns false if the reader stopped acknowledging.
bool post_events(gpc_event_page* page, uint32_t channel, uint64_t count, Fault fault,
                 uint64_t fault_at) {
  gpc_event_slot& slot = page->slot[channel];
  uint64_t seq = 0;
  for (uint64_t n = 1; n <= count; ++n) {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (__atomic_load_n(&slot.ack_seq, __ATOMIC_ACQUIRE) != seq) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::yield();  // the vCPU thread may share this PU
    }
    seq += (fault == Fault::SkipSeq && n == fault_at) ? 2 : 1;
    for (uint32_t i = 0; i < GPC_EVENT_PAYLOAD_WORDS; ++i)
      slot.payload[i] = gpc_event_payload_word(channel, seq, i);
    slot.seq = seq;
    uint64_t sum = gpc_event_checksum(channel, seq, slot.payload);
    if (fault == Fault::BadChecksum && n == fault_at) sum ^= 1;
    slot.checksum = sum;
    __atomic_fetch_or(&page->pending, uint64_t{1} << channel, __ATOMIC_RELEASE);
    if (fault == Fault::BadChecksum && n == fault_at) {
      // a torn event is never acknowledged: wait until the reader consumed the bit
      while (__atomic_load_n(&page->pending, __ATOMIC_ACQUIRE) & (uint64_t{1} << channel)) {
        if (std::chrono::steady_clock::now() > give_up) return false;
        std::this_thread::yield();
      }
      std::this_thread::sleep_for(5ms);
      return true;
    }
  }
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (__atomic_load_n(&slot.ack_seq, __ATOMIC_ACQUIRE) != seq) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

std::vector<uint64_t> run_reader(uint64_t count, Fault fault) {
  Kvm kvm;
  GuestVm g(kvm, {"reader", 1, nullptr});
  auto* page = static_cast<gpc_event_page*>(g.data_hva(0));
  page->magic = GPC_EVENT_MAGIC;
  g.boot(0).event_gpa = GuestVm::data_gpa(0);
  VcpuThread t(g.vcpu(0), -1);
  t.start({});
  bool ok = true;
  for (uint32_t ch = 0; ch < 2; ++ch)
    ok = post_events(page, ch, count, ch == 1 ? fault : Fault::None, count / 2) && ok;
  g.request_guest_stop();
  if (!t.wait(10s)) t.kick();
  const VcpuRunResult r = t.take_result();
  EXPECT_TRUE(ok) << "the reader stopped acknowledging events";
  EXPECT_EQ(r.outcome, VcpuOutcome::Done) << r.message;
  if (!r.report) return {};
  return r.report->values;
}

TEST(ReaderGuest, CleanStreamHasNoViolations) {
  GPC_REQUIRE_KVM();
  const auto c = run_reader(50, Fault::None);
  ASSERT_EQ(c.size(), static_cast<size_t>(GPC_RD_COUNT));
  EXPECT_EQ(c[GPC_RD_EVENTS], 100u);
  EXPECT_EQ(c[GPC_RD_LOST] + c[GPC_RD_REPEATED] + c[GPC_RD_OUT_OF_ORDER] + c[GPC_RD_TORN], 0u);
}

TEST(ReaderGuest, CountsALostEvent) {
  GPC_REQUIRE_KVM();
  const auto c = run_reader(40, Fault::SkipSeq);
  ASSERT_EQ(c.size(), static_cast<size_t>(GPC_RD_COUNT));
  EXPECT_EQ(c[GPC_RD_LOST], 1u);
  EXPECT_EQ(c[GPC_RD_TORN], 0u);
}

TEST(ReaderGuest, CountsATornEvent) {
  GPC_REQUIRE_KVM();
  const auto c = run_reader(40, Fault::BadChecksum);
  ASSERT_EQ(c.size(), static_cast<size_t>(GPC_RD_COUNT));
  EXPECT_EQ(c[GPC_RD_TORN], 1u);
  EXPECT_EQ(c[GPC_RD_LOST], 0u);
}

}  // namespace
}  // namespace gpc::kvm
