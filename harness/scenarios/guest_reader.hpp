// The `reader` guest as layer E's consumer in `run cache`: a one-vCPU VM whose data slot
// is the scenario's guest memory, so the guest reads the writers' pages through KVM's
// stage-2 mapping of uhva, as a real guest would, while the invalidators move them. The
// vCPU thread is unpinned and idles (GPC_IDLE_PORT) after an empty sweep, like the host
// reader's 20 us sleep, so it takes no PU the placement planned for writers or invalidators.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kvm/guest_vm.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/vcpu_thread.hpp"
#include "scenarios/host_reader.hpp"

namespace gpc::scenarios {

struct GuestReaderOptions {
  uintptr_t data_hva = 0;    // GPC_GUEST_DATA_SIZE bytes of guest memory (the data slot)
  size_t pages = 1;          // event pages at the start of the slot, one per writer
  size_t record_offset = 0;  // gpc_versioned_record inside each page; 0 = none
  uint32_t idle_us = 20;     // idle exit after an empty sweep; 0 = spin
  int pu = -1;               // OS PU for the vCPU thread; -1: unpinned (the legacy placement)
  std::chrono::nanoseconds watchdog{std::chrono::seconds(2)};  // no ucall or idle exit: hung
  std::chrono::nanoseconds time_limit{std::chrono::seconds(60)};  // backstop for the whole run
};

struct GuestReaderResult {
  ReaderCounts counts;
  kvm::VcpuRunResult vcpu;  // outcome, exits, idle exits, CPU time, vCPU stat deltas
  bool hung = false;        // the watchdog or stop() had to kick it: an invariant broke
  std::string hung_reason;
};

class GuestReader {
 public:
  // Writes each page's magic and channel mask (only channel 0 is used), builds the VM and
  // starts the vCPU. Throws UnavailableError when KVM cannot be used.
  explicit GuestReader(const GuestReaderOptions& options);
  ~GuestReader();  // kicks a running guest and joins
  GuestReader(const GuestReader&) = delete;
  GuestReader& operator=(const GuestReader&) = delete;

  // True while the guest runs; false once it ended early (an assert, an error, the
  // watchdog). The scenario polls this to stop a run whose reader is gone.
  bool running() const;
  // Asks the guest to sweep once more and report; kicks it if it has not within `grace`.
  GuestReaderResult stop(std::chrono::nanoseconds grace = std::chrono::seconds(3));

 private:
  GuestReaderOptions options_;
  kvm::Kvm kvm_;
  std::unique_ptr<kvm::GuestVm> vm_;
  std::unique_ptr<kvm::VcpuThread> vcpu_;
  std::vector<kvm::VcpuRunResult> results_;
  std::atomic<bool> supervisor_done_{false};
  std::thread supervisor_;
  std::optional<GuestReaderResult> result_;
};

// Maps the reader guest's REPORT/SYNC values (GPC_RD_* order) to the host reader's counts.
ReaderCounts reader_counts_from_guest(const std::vector<uint64_t>& values);

}  // namespace gpc::scenarios
