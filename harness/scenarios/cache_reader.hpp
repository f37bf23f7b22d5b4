// The reader of `run cache`, an observer of its rig (observer.hpp): the reader guest under
// /dev/kvm (guest_reader.hpp) or the host thread that stands in for it (host_reader.hpp),
// checking what the writers delivered to their pages. It starts before the events flow
// and makes its final sweep after the writers and invalidators stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "kvm/vcpu_thread.hpp"
#include "scenarios/guest_reader.hpp"
#include "scenarios/host_reader.hpp"
#include "scenarios/observer.hpp"

namespace gpc::scenarios {

struct ReaderChoice {
  std::string kind;    // "guest" or "host"
  std::string reason;  // why, for the table and context.run.reader_reason
};

// --reader guest needs a usable /dev/kvm (UnavailableError naming the reason and --reader
// host); auto takes the guest where it can, else says why the host thread stands in.
// UsageError for any other value.
ReaderChoice choose_reader(const std::string& flag);

struct CacheReaderOutcome {
  ReaderCounts counts;
  kvm::VcpuRunResult vcpu;  // the reader guest's vCPU run (guest only)
  bool hung = false;        // the reader guest had to be kicked: a violation
  std::string problem;      // why it hung
};

class CacheReader : public Observer {
 public:
  // `pages`: the uhva of each writer's page, the first ones of the data slot at `data_hva`.
  // `pu`: the reader's PU (guest vCPU thread or host thread); -1: unpinned.
  CacheReader(ReaderChoice choice, uintptr_t data_hva, std::vector<uintptr_t> pages, Nanos run_duration,
              int pu = -1);

  void start() override;  // guest: builds its VM and starts the vCPU; host: starts the thread
  // The final sweep. A reader guest that failed other than by hanging throws (the vCPU's
  // error); a hung one is a counted violation.
  void stop() override;
  bool running() const override;  // false once the reader guest ended early

  const ReaderChoice& choice() const { return choice_; }
  const CacheReaderOutcome& outcome() const { return outcome_; }  // after stop()

 private:
  ReaderChoice choice_;
  uintptr_t data_hva_;
  std::vector<uintptr_t> pages_;
  Nanos run_duration_;
  int pu_ = -1;
  std::unique_ptr<GuestReader> guest_;
  std::unique_ptr<HostReader> host_;
  bool stopped_ = false;
  CacheReaderOutcome outcome_;
};

}  // namespace gpc::scenarios
