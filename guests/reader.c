/*
 * reader guest (layer E): consumes the events host writers post into event pages
 * (gpc_guest/event_page.h) and counts lost, repeated, out-of-order and torn events; where
 * the host asks (boot->record_offset), also checks each page's versioned record for torn
 * reads and a counter that goes backwards. Watches boot->event_pages pages 4 KB apart.
 * Runs until the host sets boot->stop, then sweeps once more, REPORTs and is DONE.
 */
#include "gpc_guest/abi.h"
#include "gpc_guest/event_page.h"
#include "guest.h"

#define SWEEPS_PER_SYNC 512u
/* Consecutive empty sweeps double the idle time, up to this many times boot->idle_us; an
 * event resets it. A writer that is busy refreshing posts nothing for a while, and every
 * exit is expensive where guest code is emulated (MACHINE-NOTES), so a quiet page costs
 * less CPU; a busy one is still swept every idle_us. */
#define IDLE_MAX_FACTOR 16u

struct channel_state {
  uint64_t last_seq;   /* highest seq accepted */
  uint64_t last_word0; /* its payload word 0: tells a re-seen event from a repeated one */
};

struct page_state {
  struct channel_state ch[GPC_EVENT_CHANNELS];
  uint64_t last_counter;
  uint64_t seen_record;
};

/* One version-protocol read of the record; a few attempts, as a pvclock reader would. */
static void check_record(const volatile struct gpc_versioned_record* r, struct page_state* st,
                         uint64_t* c) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const uint64_t v1 = r->version;
    gpc_barrier();
    if (v1 & 1) continue;
    const uint64_t counter = r->counter;
    const uint64_t data = r->data;
    gpc_barrier();
    if (r->version != v1) continue;
    if (v1 == 0) return; /* not written yet */
    if (!gpc_record_consistent(v1, counter, data)) {
      ++c[GPC_RD_TORN];
      return;
    }
    if (st->seen_record && counter < st->last_counter) ++c[GPC_RD_BACKWARDS];
    st->last_counter = counter;
    st->seen_record = 1;
    ++c[GPC_RD_RECORDS];
    return;
  }
}

/* Consumes channel `ch` of `page` if it has something; returns 1 if it did. */
static int consume(volatile struct gpc_event_page* page, uint32_t ch, struct channel_state* st,
                   uint64_t* c) {
  const uint64_t bit = 1ull << ch;
  volatile struct gpc_event_slot* slot = &page->slot[ch];
  const int flagged = (page->pending & bit) != 0;
  if (flagged) __atomic_fetch_and(&page->pending, ~bit, __ATOMIC_ACQ_REL); /* a racing post re-raises it */
  const uint64_t seq = slot->seq;
  if (seq == slot->ack_seq) {
    if (flagged) ++c[GPC_RD_SPURIOUS];
    return 0;
  }
  gpc_barrier(); /* x86 keeps loads in order: payload and checksum are at least as new as seq */
  uint64_t payload[GPC_EVENT_PAYLOAD_WORDS];
  for (uint32_t i = 0; i < GPC_EVENT_PAYLOAD_WORDS; ++i) payload[i] = slot->payload[i];
  const uint64_t sum = slot->checksum;
  if (sum != gpc_event_checksum(ch, seq, payload)) {
    ++c[GPC_RD_TORN];
  } else {
    switch (gpc_event_judge(st->last_seq, st->last_word0, seq, payload[0])) {
      case GPC_EVENT_NEW:
        c[GPC_RD_LOST] += seq - st->last_seq - 1;
        ++c[GPC_RD_EVENTS];
        break;
      case GPC_EVENT_RESEEN: ++c[GPC_RD_REACKS]; break;
      case GPC_EVENT_REPEATED: ++c[GPC_RD_REPEATED]; break;
      case GPC_EVENT_OUT_OF_ORDER: ++c[GPC_RD_OUT_OF_ORDER]; break;
    }
  }
  if (seq >= st->last_seq) { /* the highest seq seen: an out-of-order one does not rewind it */
    st->last_seq = seq;
    st->last_word0 = payload[0];
  }
  /* acked even when torn, so the writer goes on and the next event is judged on its own */
  __atomic_store_n(&slot->ack_seq, seq, __ATOMIC_RELEASE);
  return 1;
}

void guest_main(struct gpc_guest_boot* boot) {
  const uint64_t pages = boot->event_pages ? boot->event_pages : 1;
  GUEST_ASSERT(boot, pages <= GPC_READER_MAX_PAGES);
  GUEST_ASSERT(boot, boot->record_offset == 0 ||
                         boot->record_offset + sizeof(struct gpc_versioned_record) <= GPC_EVENT_PAGE_SIZE);
  struct page_state state[GPC_READER_MAX_PAGES];
  memset(state, 0, pages * sizeof state[0]); /* emulated stores are slow here: only what is used */
  uint64_t c[GPC_RD_COUNT] = {0};
  for (uint64_t p = 0; p < pages; ++p) {
    volatile struct gpc_event_page* page =
        (volatile struct gpc_event_page*)(uintptr_t)(boot->event_gpa + p * GPC_EVENT_PAGE_SIZE);
    GUEST_ASSERT_EQ(boot, page->magic, GPC_EVENT_MAGIC);
  }
  gpc_sync(boot, 0, GPC_RD_COUNT, c); /* ready: the host may start moving the pages now */

  uint64_t idle = boot->idle_us;
  /* The last sweep runs after the stop flag, so events posted just before the end count. */
  for (int last = 0; !last;) {
    last = boot->stop != 0;
    int progress = 0;
    for (uint64_t p = 0; p < pages; ++p) {
      const uintptr_t base = (uintptr_t)(boot->event_gpa + p * GPC_EVENT_PAGE_SIZE);
      volatile struct gpc_event_page* page = (volatile struct gpc_event_page*)base;
      if (boot->record_offset)
        check_record((const volatile struct gpc_versioned_record*)(base + boot->record_offset), &state[p], c);
      const uint64_t mask = page->mask;
      for (uint32_t ch = 0; ch < GPC_EVENT_CHANNELS; ++ch)
        if (!(mask & (1ull << ch))) progress |= consume(page, ch, &state[p].ch[ch], c);
    }
    if (++c[GPC_RD_SWEEPS] % SWEEPS_PER_SYNC == 0) gpc_sync(boot, 1, GPC_RD_COUNT, c); /* progress */
    if (progress) {
      idle = boot->idle_us;
    } else if (!last) {
      if (!idle) {
        gpc_pause();
        continue;
      }
      gpc_outl(GPC_IDLE_PORT, (uint32_t)idle);
      if (idle < boot->idle_us * IDLE_MAX_FACTOR) idle *= 2;
    }
  }
  gpc_ucall(boot, GPC_UCALL_REPORT, 0, GPC_RD_COUNT, c);
  gpc_done(boot);
}
