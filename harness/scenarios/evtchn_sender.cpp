#include "scenarios/evtchn_sender.hpp"

#include "common/errors.hpp"
#include "gpc_guest/abi.h"
#include "kvm/xen_hvm.hpp"

namespace gpc::scenarios {
namespace {

using Clock = std::chrono::steady_clock;

// The guests and the invalidators change these words concurrently.
uint64_t load_shared(uint64_t* word) { return std::atomic_ref<uint64_t>(*word).load(std::memory_order_seq_cst); }

}  // namespace

EvtchnSender::EvtchnSender(kvm::GuestVm& guest, EvtchnLedger& ledger, MeasurementPhase& phase,
                           const EvtchnSenderConfig& config)
    : guest_(guest), ledger_(ledger), phase_(phase), config_(config), thread_([this] { loop(); }) {}

EvtchnSender::~EvtchnSender() { finish(); }

void EvtchnSender::finish() {
  abandon_.store(true);
  if (thread_.joinable()) thread_.join();
}

void EvtchnSender::rethrow_error() const {
  if (error_) std::rethrow_exception(error_);
  if (send_errno_ != 0) throw SystemError("KVM_XEN_HVM_EVTCHN_SEND", send_errno_);
}

bool EvtchnSender::send_round() {
  bool any = false;
  for (int i = 0; i < config_.vcpus; ++i) {
    const uint32_t port = evtchn_port_of(i);
    const bool set = (load_shared(config_.pending + port / 64) >> (port % 64)) & 1;
    const uint64_t m = load_shared(config_.marker);
    if (!ledger_.may_send(static_cast<size_t>(i), set, m)) continue;
    const auto t0 = Clock::now();
    const int err = kvm::xen_evtchn_send(guest_.vm(), port, static_cast<uint32_t>(i));
    const auto t1 = Clock::now();
    if (err != 0) {
      send_errno_ = err;
      break;
    }
    latency_.record(static_cast<uint64_t>(std::chrono::duration_cast<Nanos>(t1 - t0).count()));
    ledger_.sent(static_cast<size_t>(i), m);
    any = true;
  }
  return any;
}

void EvtchnSender::loop() {
  const auto begin = Clock::now();
  try {
    const Deadline end(config_.duration);
    while (!phase_.should_end(end) && !abandon_.load() && send_errno_ == 0) {
      const bool any = send_round();
      if (!any) std::this_thread::sleep_for(config_.idle_poll);
      else if (config_.send_interval.count() > 0) std::this_thread::sleep_for(config_.send_interval);
    }
  } catch (...) {
    error_ = std::current_exception();
  }
  seconds_ = std::chrono::duration<double>(Clock::now() - begin).count();
  try {
    phase_.stop_invalidators();  // rethrows an invalidator thread's error
  } catch (...) {
    if (!error_) error_ = std::current_exception();
  }
  ledger_.finish(load_shared(config_.marker));
  guest_.request_guest_stop();
}

}  // namespace gpc::scenarios
