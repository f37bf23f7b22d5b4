#include "scenarios/evtchn_ledger.hpp"

#include "gpc_guest/abi.h"

namespace gpc::scenarios {

EvtchnLedger::EvtchnLedger(size_t channels) : channels_(channels) {}

void EvtchnLedger::settle(Channel& c, uint64_t marker) {
  if (!c.outstanding) return;
  // A step in progress at the send, or one that began or ended since: the page's contents
  // may have been copied or discarded while the event was outstanding.
  if (marker != c.marker_at_send || (c.marker_at_send & GPC_MARKER_BUSY_MASK) != 0) ++c.counts.sends_at_risk;
  c.outstanding = false;
}

bool EvtchnLedger::may_send(size_t channel, bool pending, uint64_t marker) {
  Channel& c = channels_.at(channel);
  if (pending) {
    ++c.counts.deferred;
    return false;
  }
  settle(c, marker);
  return true;
}

void EvtchnLedger::sent(size_t channel, uint64_t marker) {
  Channel& c = channels_.at(channel);
  ++c.counts.sent;
  c.outstanding = true;
  c.marker_at_send = marker;
}

void EvtchnLedger::finish(uint64_t final_marker) {
  for (Channel& c : channels_) settle(c, final_marker);
}

void EvtchnLedger::delivered(size_t channel, uint64_t events, uint64_t at_risk) {
  EvtchnCounts& c = channels_.at(channel).counts;
  c.delivered += events;
  c.deliveries_at_risk += at_risk;
}

EvtchnCounts EvtchnLedger::total() const {
  EvtchnCounts t;
  for (const Channel& c : channels_) {
    t.sent += c.counts.sent;
    t.sends_at_risk += c.counts.sends_at_risk;
    t.delivered += c.counts.delivered;
    t.deliveries_at_risk += c.counts.deliveries_at_risk;
    t.deferred += c.counts.deferred;
  }
  return t;
}

uint64_t EvtchnLedger::violations() const {
  uint64_t v = 0;
  for (const Channel& c : channels_) v += c.counts.violations();
  return v;
}

}  // namespace gpc::scenarios
