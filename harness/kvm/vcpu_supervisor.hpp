// Runs a group of vCPU threads to the end, whatever the end is: every guest DONE, the
// time limit, Ctrl-C/SIGTERM, or the watchdog finding a vCPU that stopped making ucalls.
// Every path returns with all vCPUs out of KVM_RUN and their results collected.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <stdexcept>
#include <vector>

#include "kvm/vcpu_thread.hpp"

namespace gpc::kvm {

struct SupervisorOptions {
  VcpuRunOptions run;
  // Whole-run bound (guest duration plus grace). A vCPU still running then is Hung.
  std::chrono::nanoseconds time_limit{std::chrono::seconds(10)};
  // A vCPU without a ucall or bench exit for this long is Hung (reported with its last
  // ucall). 0 disables the watchdog.
  std::chrono::nanoseconds watchdog{std::chrono::seconds(2)};
  // Called once when the time limit is reached, before kicking, e.g. to set guest stop
  // flags and give guests `stop_grace` to report and send DONE.
  std::function<void()> request_guest_stop;
  std::chrono::nanoseconds stop_grace{std::chrono::milliseconds(500)};
};

std::vector<VcpuRunResult> run_vcpus(std::span<VcpuThread* const> threads,
                                     const SupervisorOptions& options);

// A vCPU the watchdog or the time limit had to stop.
class HungVcpuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws for the first failed vCPU: GuestAssertionError (guest file:line), HungVcpuError,
// VmDeadError, or std::runtime_error naming the vCPU and what happened.
void throw_on_failure(const std::vector<VcpuRunResult>& results);

}  // namespace gpc::kvm
