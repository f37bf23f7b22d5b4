#include "kvm/vcpu_supervisor.hpp"

#include <fmt/format.h>

#include "common/stop.hpp"
#include "kvm/kvm_ioctl.hpp"

namespace gpc::kvm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(5);

std::string last_ucall_text(const VcpuProgress& p) {
  return p.last_ucall ? p.last_ucall->describe() : std::string("none");
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::vector<VcpuRunResult> run_vcpus(std::span<VcpuThread* const> threads,
                                     const SupervisorOptions& options) {
  const size_t n = threads.size();
  std::vector<std::string> hung_message(n);
  for (VcpuThread* t : threads) t->start(options.run);
  const auto t_start = Clock::now();
  bool guest_stop_requested = false;
  Clock::time_point grace_end = Clock::time_point::max();

  auto kick_all = [&](VcpuOutcome why, const char* what) {
    for (size_t i = 0; i < n; ++i) {
      if (threads[i]->wait(std::chrono::nanoseconds(0))) continue;
      if (why == VcpuOutcome::Hung && hung_message[i].empty()) {
        const VcpuProgress p = threads[i]->progress();
        hung_message[i] = fmt::format("vCPU {} hung: {} (last ucall: {})", threads[i]->vcpu_id(),
                                      what, last_ucall_text(p));
      }
      threads[i]->kick(why);
    }
  };

  for (;;) {
    bool all_done = true;
    for (VcpuThread* t : threads)
      if (!t->wait(std::chrono::nanoseconds(0))) all_done = false;
    if (all_done) break;
    if (!threads.empty()) {
      for (VcpuThread* t : threads)
        if (!t->wait(std::chrono::nanoseconds(0))) {
          t->wait(kPoll);
          break;
        }
    }
    const auto now = Clock::now();
    if (stop_requested()) {
      kick_all(VcpuOutcome::Stopped, "stop requested");
      continue;
    }
    if (now - t_start >= options.time_limit) {
      if (options.request_guest_stop && !guest_stop_requested) {
        guest_stop_requested = true;
        options.request_guest_stop();
        grace_end = now + options.stop_grace;
      } else if (!options.request_guest_stop || now >= grace_end) {
        kick_all(VcpuOutcome::Hung,
                 fmt::format("still running {:.1f} s after start (limit {:.1f} s)",
                             seconds(now - t_start), seconds(options.time_limit))
                     .c_str());
      }
    }
    if (options.watchdog.count() > 0) {
      for (size_t i = 0; i < n; ++i) {
        const VcpuProgress p = threads[i]->progress();
        if (!p.running || !hung_message[i].empty()) continue;
        if (now - p.last_event_at >= options.watchdog) {
          hung_message[i] = fmt::format("vCPU {} hung: no ucall for {:.1f} s (last ucall: {})",
                                        threads[i]->vcpu_id(), seconds(now - p.last_event_at),
                                        last_ucall_text(p));
          threads[i]->kick(VcpuOutcome::Hung);
        }
      }
    }
  }

  std::vector<VcpuRunResult> results;
  results.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    VcpuRunResult r = threads[i]->take_result();
    if (r.outcome == VcpuOutcome::Hung && !hung_message[i].empty()) r.message = hung_message[i];
    results.push_back(std::move(r));
  }
  return results;
}

void throw_on_failure(const std::vector<VcpuRunResult>& results) {
  for (const VcpuRunResult& r : results) {
    if (r.ok()) continue;
    switch (r.outcome) {
      case VcpuOutcome::GuestAssert: throw GuestAssertionError(r.vcpu, *r.assertion);
      case VcpuOutcome::Hung: throw HungVcpuError(r.message);
      case VcpuOutcome::VmDead: throw VmDeadError(fmt::format("vCPU {}: KVM_RUN", r.vcpu));
      default:
        throw std::runtime_error(
            fmt::format("vCPU {} ended with {}: {}", r.vcpu, to_string(r.outcome), r.message));
    }
  }
}

}  // namespace gpc::kvm
