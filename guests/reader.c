/*
 * reader guest (layer E): consumes the events a host writer posts into the event page
 * (gpc_guest/event_page.h) and counts lost, repeated, out-of-order and torn events.
 * Runs until the host sets boot->stop; SYNCs its counters every few hundred polls.
 */
#include "gpc_guest/abi.h"
#include "gpc_guest/event_page.h"
#include "guest.h"

#define POLLS_PER_SYNC 512u

void guest_main(struct gpc_guest_boot* boot) {
  volatile struct gpc_event_page* page = (volatile struct gpc_event_page*)(uintptr_t)boot->event_gpa;
  uint64_t c[GPC_RD_COUNT] = {0};
  uint64_t last[GPC_EVENT_CHANNELS] = {0};
  uint64_t payload[GPC_EVENT_PAYLOAD_WORDS];
  uint32_t polls = 0;

  GUEST_ASSERT_EQ(boot, page->magic, GPC_EVENT_MAGIC);
  while (!boot->stop) {
    uint64_t pending = page->pending & ~page->mask;
    if (++polls == POLLS_PER_SYNC) {
      polls = 0;
      gpc_sync(boot, 1, GPC_RD_COUNT, c);
    }
    if (!pending) {
      gpc_pause();
      continue;
    }
    for (uint32_t ch = 0; ch < GPC_EVENT_CHANNELS; ++ch) {
      const uint64_t bit = 1ull << ch;
      if (!(pending & bit)) continue;
      /* clear before reading, so a post racing with us re-raises the bit */
      __atomic_fetch_and(&page->pending, ~bit, __ATOMIC_ACQ_REL);
      volatile struct gpc_event_slot* slot = &page->slot[ch];
      const uint64_t seq = slot->seq;
      gpc_barrier();
      for (uint32_t i = 0; i < GPC_EVENT_PAYLOAD_WORDS; ++i) payload[i] = slot->payload[i];
      const uint64_t sum = slot->checksum;
      if (seq == 0) {
        ++c[GPC_RD_SPURIOUS];
        continue;
      }
      if (sum != gpc_event_checksum(ch, seq, payload)) {
        ++c[GPC_RD_TORN];
        continue; /* no ack: the writer's timeout reports the stuck channel */
      }
      const uint64_t expected = last[ch] + 1;
      if (seq == expected) ++c[GPC_RD_EVENTS];
      else if (seq > expected) { c[GPC_RD_LOST] += seq - expected; ++c[GPC_RD_EVENTS]; }
      else if (seq == last[ch]) ++c[GPC_RD_REPEATED];
      else ++c[GPC_RD_OUT_OF_ORDER];
      if (seq > last[ch]) last[ch] = seq;
      __atomic_store_n(&slot->ack_seq, seq, __ATOMIC_RELEASE);
    }
  }
  gpc_ucall(boot, GPC_UCALL_REPORT, 0, GPC_RD_COUNT, c);
  gpc_done(boot);
}
