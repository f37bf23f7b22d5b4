/*
 * Layer E's event page: a host writer (the embedded pfn cache's "kernel") posts events
 * into a guest page, the `reader` guest consumes and checks them. Shared by the host
 * writer and the guest so both agree on layout and checksum.
 *
 * Protocol per channel (evtchn style):
 *   writer: wait until ack_seq == seq; write payload, seq = seq + 1, checksum;
 *           release fence; set the channel's bit in `pending`.
 *   reader: see the bit, clear it, read seq/payload/checksum, verify, ack_seq = seq.
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

/* Counters of the reader guest, in SYNC and REPORT values (this order). */
enum gpc_reader_counter {
  GPC_RD_EVENTS = 0, /* events accepted */
  GPC_RD_LOST,       /* seq jumped forward: events never seen */
  GPC_RD_REPEATED,   /* seq equal to the last accepted one */
  GPC_RD_OUT_OF_ORDER, /* seq went backwards */
  GPC_RD_TORN,       /* checksum did not match the payload */
  GPC_RD_SPURIOUS,   /* pending bit set with nothing new (seq == ack) */
  GPC_RD_COUNT
};

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
