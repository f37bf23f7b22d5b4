// Bookkeeping of the xen-evtchn handshake: every event sent is either delivered exactly once
// or lost, and a loss (or a duplicate) is a violation unless a host invalidator step that
// rewrites the page's contents overlapped it.
//
// Event channels are level bits: a send to a port whose pending bit is still set coalesces.
// So the host sends to a channel only when it has just read the bit clear (through the
// data region's host mapping, which always shows the page mapped now); then each send
// moves the bit from clear to set and the guest's consume moves it back, so after the
// guest's final sweep delivered == sent per channel. A channel is one port of one vCPU.
//
// The host's own disturbance: invalidators that copy or discard the page in userspace
// (mremap and mmap-fixed stage a copy before the syscall, punch-hole zeroes the page) can
// drop a bit KVM set (a loss) or bring back a bit the guest cleared (a duplicate). They
// announce their steps in a step-marker word (InvalidatorConfig::step_marker: low 16 bits =
// steps in progress, any change = a step began or ended). A send is "at risk" when the
// marker changed or showed a step in progress between the host's read just before the send
// and its read right after it next saw the bit clear (the event's whole outstanding time);
// the guest counts a delivery at risk the same way around its consume. Losses beyond the
// sends at risk, and duplicates beyond the deliveries at risk, are violations; per channel,
// so a loss on one channel and a duplicate on another never cancel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpc::scenarios {

struct EvtchnCounts {
  uint64_t sent = 0;
  uint64_t sends_at_risk = 0;
  uint64_t delivered = 0;
  uint64_t deliveries_at_risk = 0;
  uint64_t deferred = 0;  // host found the bit still set and did not send
  uint64_t lost() const { return sent > delivered ? sent - delivered : 0; }
  uint64_t duplicated() const { return delivered > sent ? delivered - sent : 0; }
  uint64_t unexplained_lost() const { return lost() > sends_at_risk ? lost() - sends_at_risk : 0; }
  uint64_t unexplained_duplicated() const {
    return duplicated() > deliveries_at_risk ? duplicated() - deliveries_at_risk : 0;
  }
  uint64_t violations() const { return unexplained_lost() + unexplained_duplicated(); }
};

class EvtchnLedger {
 public:
  explicit EvtchnLedger(size_t channels);

  size_t channels() const { return channels_.size(); }

  // Host side, one call per poll of `channel`: `pending` = the bit as just read, then
  // `marker` = the step marker read after it. Returns true when the host may send now (bit
  // clear); that also settles the previous send (at risk if a step overlapped it).
  bool may_send(size_t channel, bool pending, uint64_t marker);
  // The host sent on `channel` (the ioctl succeeded) after may_send() with this marker.
  void sent(size_t channel, uint64_t marker);
  // After the last send and after every invalidator stopped: settles outstanding sends
  // against the final marker (the guest's final sweep consumes them).
  void finish(uint64_t final_marker);
  // What the guest counted on `channel` (its REPORT).
  void delivered(size_t channel, uint64_t events, uint64_t at_risk);

  const EvtchnCounts& channel(size_t channel) const { return channels_.at(channel).counts; }
  // Sums over channels; violations() of the total is the sum of per-channel violations.
  EvtchnCounts total() const;
  uint64_t violations() const;

 private:
  struct Channel {
    EvtchnCounts counts;
    bool outstanding = false;
    uint64_t marker_at_send = 0;
  };
  void settle(Channel& c, uint64_t marker);
  std::vector<Channel> channels_;
};

}  // namespace gpc::scenarios
