#include "kvm/vcpu_thread.hpp"

#include <algorithm>
#include <csignal>
#include <ctime>
#include <cstring>

#include <fmt/format.h>

#include "common/stop.hpp"
#include "gpc_guest/abi.h"
#include "kvm/kvm_ioctl.hpp"
#include "topology/pinning.hpp"

namespace gpc::kvm {
namespace {

// The kick signal only has to interrupt KVM_RUN (which then returns EINTR); the handler
// does nothing. A real-time signal keeps clear of SIGUSR1/2, which tools may use.
int kick_signal() { return SIGRTMIN + 2; }

void on_kick(int) {}

void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = {};
    sa.sa_handler = on_kick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must come back with EINTR
    sigaction(kick_signal(), &sa, nullptr);
  });
}

using Clock = std::chrono::steady_clock;

// Longest idle sleep a guest may ask for (GPC_IDLE_PORT): a kick that lands just before
// the sleep is noticed at most this late.
constexpr uint32_t kMaxIdleUs = 10'000;

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

}  // namespace

const char* to_string(VcpuOutcome outcome) {
  switch (outcome) {
    case VcpuOutcome::Done: return "done";
    case VcpuOutcome::HostDeadline: return "host deadline";
    case VcpuOutcome::Stopped: return "stopped";
    case VcpuOutcome::Hung: return "hung";
    case VcpuOutcome::GuestAssert: return "guest assertion";
    case VcpuOutcome::Shutdown: return "shutdown (triple fault)";
    case VcpuOutcome::UnexpectedExit: return "unexpected exit";
    case VcpuOutcome::VmDead: return "VM killed by KVM";
    case VcpuOutcome::Error: return "error";
  }
  return "?";
}

VcpuThread::VcpuThread(Vcpu& vcpu, int os_pu) : vcpu_(vcpu) {
  install_kick_handler();
  // Stats are optional (KVM_CAP_BINARY_STATS_FD, Linux 5.14): runs then report none.
  if (vcpu.vm().kvm().check_extension(KVM_CAP_BINARY_STATS_FD))
    stats_ = std::make_unique<BinaryStats>(vcpu.stats_fd());
  thread_ = std::thread([this, os_pu] { thread_main(os_pu); });
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return ready_; });
  if (!start_error_.empty()) {
    quit_ = true;
    lock.unlock();
    thread_.join();
    throw UnavailableError("cannot pin the thread of vCPU " + std::to_string(vcpu.id()) +
                           ": " + start_error_);
  }
}

VcpuThread::~VcpuThread() {
  if (!thread_.joinable()) return;
  kick(VcpuOutcome::Stopped);
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void VcpuThread::thread_main(int os_pu) {
  std::string error;
  try {
    if (os_pu >= 0) pu_ = pin_current_thread(os_pu);
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::unique_lock lock(mu_);
  handle_ = pthread_self();
  ready_ = true;
  start_error_ = error;
  cv_.notify_all();
  if (!error.empty()) return;
  for (;;) {
    cv_.wait(lock, [this] { return quit_ || has_command_; });
    if (quit_) return;
    has_command_ = false;
    const VcpuRunOptions options = command_;
    lock.unlock();
    VcpuRunResult r = run_guest(options);
    lock.lock();
    result_ = std::move(r);
    running_ = false;
    progress_.running = false;
    has_result_ = true;
    cv_.notify_all();
  }
}

void VcpuThread::start(const VcpuRunOptions& options) {
  std::lock_guard lock(mu_);
  if (running_) throw std::logic_error("VcpuThread::start while vCPU " + std::to_string(vcpu_.id()) + " runs");
  kick_reason_.store(0);
  __atomic_store_n(&vcpu_.run_state()->immediate_exit, 0, __ATOMIC_SEQ_CST);
  command_ = options;
  has_command_ = true;
  running_ = true;
  has_result_ = false;
  progress_ = {};
  progress_.running = true;
  progress_.last_event_at = Clock::now();
  cv_.notify_all();
}

bool VcpuThread::wait(std::chrono::nanoseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return !running_; });
}

VcpuRunResult VcpuThread::take_result() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !running_; });
  has_result_ = false;
  return std::move(result_);
}

void VcpuThread::kick(VcpuOutcome reason) {
  std::lock_guard lock(mu_);
  if (!running_) return;
  int expected = 0;
  kick_reason_.compare_exchange_strong(expected, 1 + static_cast<int>(reason));
  // immediate_exit covers a kick that lands before the thread enters KVM_RUN; the signal
  // covers one that lands while it is inside.
  __atomic_store_n(&vcpu_.run_state()->immediate_exit, 1, __ATOMIC_SEQ_CST);
  pthread_kill(handle_, kick_signal());
}

VcpuProgress VcpuThread::progress() const {
  std::lock_guard lock(mu_);
  return progress_;
}

void VcpuThread::note_event(const Ucall* ucall) {
  std::lock_guard lock(mu_);
  ++progress_.events;
  progress_.last_event_at = Clock::now();
  if (ucall) progress_.last_ucall = *ucall;
}

VcpuRunResult VcpuThread::run_guest(const VcpuRunOptions& options) {
  VcpuRunResult r;
  r.vcpu = vcpu_.id();
  r.pu = pu_;
  kvm_run* run = vcpu_.run_state();
  const auto t_start = Clock::now();
  const double cpu_start = thread_cpu_ns();
  const auto deadline = options.host_deadline.count() > 0 ? t_start + options.host_deadline
                                                          : Clock::time_point::max();
  const StatsSnapshot before = stats_ ? stats_->read() : StatsSnapshot{};
  auto finish = [&](VcpuOutcome o, std::string msg) {
    r.outcome = o;
    r.message = std::move(msg);
  };
  try {
    for (;;) {
      if (const int k = kick_reason_.load(); k != 0) {
        finish(static_cast<VcpuOutcome>(k - 1), "");
        break;
      }
      if (stop_requested()) {
        finish(VcpuOutcome::Stopped, "stop requested");
        break;
      }
      const auto t0 = options.time_exits ? Clock::now() : Clock::time_point{};
      const int err = vcpu_.run();
      if (err == EINTR) continue;  // kick, Ctrl-C or a stray signal: the checks above decide
      if (err != 0) {
        if (err == EIO && vm_is_dead(vcpu_.vm().fd()))
          finish(VcpuOutcome::VmDead, "KVM_RUN: KVM killed the VM (see the kernel log)");
        else
          finish(VcpuOutcome::Error, fmt::format("KVM_RUN: {}", std::strerror(err)));
        break;
      }
      ++r.runs;
      if (options.time_exits)
        r.exit_ns.record(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));

      if (run->exit_reason == KVM_EXIT_IO) {
        if (is_out_to(*run, GPC_BENCH_PORT)) {
          ++r.bench_exits;
          if ((r.bench_exits & 1023) == 0) note_event(nullptr);
        } else if (is_out_to(*run, GPC_IDLE_PORT)) {
          ++r.idle_exits;
          note_event(nullptr);  // an idle guest is alive: the watchdog must not call it hung
          // Bounded, so a guest cannot park the thread; a kick's signal ends it early (EINTR).
          const uint32_t us = std::min<uint32_t>(out_value(*run), kMaxIdleUs);
          const timespec ts{0, static_cast<long>(us) * 1000};
          nanosleep(&ts, nullptr);
        } else {
          std::optional<Ucall> u = decode_ucall(vcpu_.vm(), *run);
          if (!u) {
            finish(VcpuOutcome::UnexpectedExit,
                   fmt::format("guest {} port {:#x} (size {}), which nobody serves",
                               run->io.direction == KVM_EXIT_IO_OUT ? "wrote to" : "read from",
                               run->io.port, run->io.size));
            break;
          }
          ++r.ucalls;
          note_event(&*u);
          r.last_ucall = *u;
          if (u->kind == UcallKind::Report) r.report = *u;
          if (u->kind == UcallKind::Done) {
            finish(VcpuOutcome::Done, "");
            break;
          }
          if (u->kind == UcallKind::Assert) {
            r.assertion = *u;
            finish(VcpuOutcome::GuestAssert, GuestAssertionError(vcpu_.id(), *u).what());
            break;
          }
        }
      } else if (run->exit_reason == KVM_EXIT_INTR) {
        continue;
      } else if (run->exit_reason == KVM_EXIT_SHUTDOWN) {
        finish(VcpuOutcome::Shutdown,
               fmt::format("guest triple fault (KVM_EXIT_SHUTDOWN) near rip {:#x}", vcpu_.get_regs().rip));
        break;
      } else if (run->exit_reason == KVM_EXIT_HLT) {
        finish(VcpuOutcome::UnexpectedExit,
               fmt::format("guest halted without DONE at rip {:#x}", vcpu_.get_regs().rip));
        break;
      } else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
        finish(VcpuOutcome::Error, fmt::format("VM entry failed, hardware reason {:#x}",
                                               run->fail_entry.hardware_entry_failure_reason));
        break;
      } else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
        finish(VcpuOutcome::Error,
               fmt::format("KVM internal error, suberror {}", run->internal.suberror));
        break;
      } else {
        finish(VcpuOutcome::UnexpectedExit, fmt::format("unhandled exit reason {}", run->exit_reason));
        break;
      }
      if (Clock::now() >= deadline) {
        finish(VcpuOutcome::HostDeadline, "");
        break;
      }
    }
  } catch (const std::exception& e) {
    finish(VcpuOutcome::Error, e.what());
  }
  r.elapsed_ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t_start).count());
  r.cpu_ns = thread_cpu_ns() - cpu_start;
  try {
    if (stats_) r.stats = stats_delta(before, stats_->read());
  } catch (const std::exception&) {
    // a dead VM cannot report stats; the outcome already says why
  }
  return r;
}

}  // namespace gpc::kvm
