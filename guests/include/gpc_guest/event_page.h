/*
 * Layer E's event page: a host writer (the embedded pfn cache's "kernel") posts events
 * into a guest page, the `reader` guest consumes and checks them. Shared by the host
 * writer and the guest so both agree on layout and checksum.
 *
 * Protocol per channel (evtchn style):
 *   writer: wait until ack_seq == seq; write payload and checksum, release fence,
 *           seq = seq + 1, then set the channel's bit in `pending`.
 *   reader: a channel needs attention when its bit is set or seq != ack_seq (the second
 *           catches an ack or a bit lost when the host moved the page); clear the bit, read
 *           seq/payload/checksum, verify, ack_seq = seq.
 * A writer that writes through a stale mapping makes events vanish (lost), reappear
 * (repeated) or arrive half-written (torn): exactly what the reader counts.
 */
#ifndef GPC_GUEST_EVENT_PAGE_H
#define GPC_GUEST_EVENT_PAGE_H

#include <stdint.h>

#define GPC_EVENT_CHANNELS 4u
#define GPC_EVENT_PAYLOAD_WORDS 6u
#define GPC_EVENT_MAGIC 0x6770636576656e74ull /* "gpcevent" */

struct gpc_event_slot {
  volatile uint64_t seq;      /* 1, 2, 3, ... per channel; 0 = nothing posted yet */
  volatile uint64_t checksum; /* gpc_event_checksum(channel, seq, payload) */
  volatile uint64_t payload[GPC_EVENT_PAYLOAD_WORDS];
  volatile uint64_t ack_seq;  /* written by the reader */
  uint64_t pad[7];            /* one slot per 128 bytes: no false sharing between channels */
};

struct gpc_event_page {
  volatile uint64_t magic;
  volatile uint64_t pending; /* bit c: channel c has an unconsumed event */
  volatile uint64_t mask;    /* bit c: reader ignores channel c */
  uint64_t pad[13];
  struct gpc_event_slot slot[GPC_EVENT_CHANNELS];
};

/* A pvclock-style versioned record a writer may keep in the same page (layer E's cache
 * writer does, at a fixed offset): version is odd while an update is in progress and equals
 * 2 * counter + 2 after it; counter only grows; data = gpc_record_data(counter), so a read
 * that mixes two updates shows. */
struct gpc_versioned_record {
  volatile uint64_t version;
  volatile uint64_t counter;
  volatile uint64_t data;
};

static inline uint64_t gpc_record_data(uint64_t counter) {
  return (counter * 0x9e3779b97f4a7c15ull) ^ 0x5a5a5a5a5a5a5a5aull;
}

/* A record snapshot taken between two equal, even version reads: 0 if it mixes updates. */
static inline int gpc_record_consistent(uint64_t version, uint64_t counter, uint64_t data) {
  return data == gpc_record_data(counter) && version == 2 * counter + 2;
}

#define GPC_EVENT_PAGE_SIZE 4096u
#define GPC_READER_MAX_PAGES 64u /* pages one reader guest watches */

/* Counters of the reader guest, in SYNC and REPORT values (this order). */
enum gpc_reader_counter {
  GPC_RD_EVENTS = 0, /* events accepted */
  GPC_RD_LOST,       /* seq jumped forward: events never seen */
  GPC_RD_REPEATED,   /* the accepted seq again, with a different payload (another post) */
  GPC_RD_OUT_OF_ORDER, /* seq went backwards */
  GPC_RD_TORN,       /* checksum did not match the payload, or a record mixed two updates */
  GPC_RD_SPURIOUS,   /* pending bit set with nothing new (seq == ack) */
  GPC_RD_REACKS,     /* the accepted event again, same payload: our ack was lost, acked again */
  GPC_RD_RECORDS,    /* consistent record snapshots read */
  GPC_RD_BACKWARDS,  /* a record's counter went backwards */
  GPC_RD_SWEEPS,     /* passes over all pages */
  GPC_RD_COUNT
};

/* How a reader judges an intact event (checksum verified) against the highest one it has
 * accepted on that channel: the one rule the reader guest and the host stand-in share. */
enum gpc_event_verdict {
  GPC_EVENT_NEW,          /* seq above the last: accepted (a gap above last + 1 is lost events) */
  GPC_EVENT_RESEEN,       /* the last event again, same payload word 0: our ack was lost */
  GPC_EVENT_REPEATED,     /* the last seq again with another payload: a repeated post */
  GPC_EVENT_OUT_OF_ORDER, /* seq below the last */
};

static inline enum gpc_event_verdict gpc_event_judge(uint64_t last_seq, uint64_t last_word0, uint64_t seq,
                                                     uint64_t word0) {
  if (seq > last_seq) return GPC_EVENT_NEW;
  if (seq < last_seq) return GPC_EVENT_OUT_OF_ORDER;
  return word0 == last_word0 ? GPC_EVENT_RESEEN : GPC_EVENT_REPEATED;
}

/* A mixing checksum over everything the writer publishes; any torn mix of old and new
 * words fails it with overwhelming probability. */
static inline uint64_t gpc_event_checksum(uint32_t channel, uint64_t seq,
                                          const volatile uint64_t* payload) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)channel << 56) ^ seq;
  for (uint32_t i = 0; i < GPC_EVENT_PAYLOAD_WORDS; ++i) {
    h ^= payload[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h;
}

/* The payload the reference writer puts in event `seq` of `channel` (tests use it). */
static inline uint64_t gpc_event_payload_word(uint32_t channel, uint64_t seq, uint32_t i) {
  return (seq * 0x100000001b3ull) ^ ((uint64_t)channel << 48) ^ ((uint64_t)i << 40);
}

#endif
