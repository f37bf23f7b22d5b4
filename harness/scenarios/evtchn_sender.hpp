// xen-evtchn's measured thread, the host sender: per round, each channel whose pending bit
// it reads clear gets one KVM_XEN_HVM_EVTCHN_SEND, timed on the steady clock, with the
// handshake of evtchn_ledger.hpp. When the run ends (the measurement phase's end rule, or
// finish()) it stops the invalidators, settles the outstanding sends with the final marker
// and asks the guests for their final sweep: the ledger's lost/duplicated are exact only
// with nothing moving the page any more.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <thread>

#include "common/duration.hpp"
#include "common/histogram.hpp"
#include "kvm/guest_vm.hpp"
#include "scenarios/evtchn_ledger.hpp"
#include "scenarios/measurement_phase.hpp"

namespace gpc::scenarios {

// One 64-port word of shared_info per vCPU, so no two guests ever clear bits of one word.
inline uint32_t evtchn_port_of(int vcpu) { return 64u * static_cast<uint32_t>(vcpu + 1); }

struct EvtchnSenderConfig {
  int vcpus = 1;  // vCPU i owns port evtchn_port_of(i)
  Nanos duration{0};
  Nanos send_interval{0};  // pause after a round that sent; 0 = none
  Nanos idle_poll{0};      // pause after a round where every bit was still set
  uint64_t* pending = nullptr;  // shared_info's evtchn_pending words, through the region's uhva
  uint64_t* marker = nullptr;   // the invalidators' step marker
};

class EvtchnSender {
 public:
  // Starts the thread. `guest`, `ledger` and `phase` must outlive this object.
  EvtchnSender(kvm::GuestVm& guest, EvtchnLedger& ledger, MeasurementPhase& phase, const EvtchnSenderConfig& config);
  ~EvtchnSender();  // finish()
  EvtchnSender(const EvtchnSender&) = delete;
  EvtchnSender& operator=(const EvtchnSender&) = delete;

  // Ends the sending loop (a vCPU that failed early ends the run) and joins; idempotent.
  void finish();
  // After finish(): the sender's or an invalidator's error, else SystemError for a failed send.
  void rethrow_error() const;

  const Histogram& latency() const { return latency_; }  // ns per send, after finish()
  double seconds() const { return seconds_; }            // the sending loop's wall time

 private:
  void loop();
  bool send_round();  // true when it sent on any channel

  kvm::GuestVm& guest_;
  EvtchnLedger& ledger_;
  MeasurementPhase& phase_;
  EvtchnSenderConfig config_;
  Histogram latency_;
  double seconds_ = 0;
  int send_errno_ = 0;
  std::exception_ptr error_;
  std::atomic<bool> abandon_{false};
  std::thread thread_;
};

}  // namespace gpc::scenarios
