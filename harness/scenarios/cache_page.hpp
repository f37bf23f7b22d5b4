// Layout of one writer's guest page in `run cache`: the evtchn-style event page of
// gpc_guest/event_page.h (channel 0 carries the writer's events), then a pvclock-like
// versioned record the writer rewrites on every iteration. Shared by the writer (through
// khva) and the readers (through uhva / the guest).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gpc_guest/event_page.h"

namespace gpc::scenarios::cache_page {

constexpr uint32_t kChannel = 0;
constexpr size_t kSlot = offsetof(gpc_event_page, slot);  // channel 0's slot
constexpr size_t kSeq = kSlot + offsetof(gpc_event_slot, seq);
constexpr size_t kChecksum = kSlot + offsetof(gpc_event_slot, checksum);
constexpr size_t kPayload = kSlot + offsetof(gpc_event_slot, payload);
constexpr size_t kAck = kSlot + offsetof(gpc_event_slot, ack_seq);
constexpr size_t kPending = offsetof(gpc_event_page, pending);
constexpr size_t kMagic = offsetof(gpc_event_page, magic);

// The versioned record (gpc_versioned_record, pvclock's protocol): version odd while the
// writer is inside an update, counter strictly increasing, data = gpc_record_data(counter).
constexpr size_t kRecord = 1024;
static_assert(sizeof(gpc_event_page) <= kRecord);
constexpr size_t kVersion = kRecord + offsetof(gpc_versioned_record, version);
constexpr size_t kCounter = kRecord + offsetof(gpc_versioned_record, counter);
constexpr size_t kData = kRecord + offsetof(gpc_versioned_record, data);

// Payload word 0 carries the writer's post number (never repeats, even when the page's
// seq is re-posted); the others follow the reference payload of event_page.h.
inline uint64_t payload_word(uint64_t seq, uint64_t post, uint32_t i) {
  return i == 0 ? post : gpc_event_payload_word(kChannel, seq, i);
}

}  // namespace gpc::scenarios::cache_page
