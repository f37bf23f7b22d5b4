// vCPU exits under /dev/kvm.
//  - kvm/exit_harness: the pingpong guest (bare OUTs to GPC_BENCH_PORT) run by the
//    harness's VcpuThread run loop exactly as `gpcbench run pingpong` does (deadline,
//    kick and stop checks, exit dispatch, per-exit timing into a Histogram). Each
//    iteration is one 10 ms run (manual time: the run loop's own elapsed time, without
//    the thread handoff around it); `ns_per_exit` = elapsed / KVM_RUNs is the figure
//    compared with the floor.
//  - floor/kvm_exit_raw: the same guest in its own VM, one bare ioctl(KVM_RUN) on the
//    vcpu fd per iteration, no harness layer. Same PU.
//  - kvm/pvclock_update: a real-mode guest of a few hand-assembled bytes that writes
//    MSR_KVM_SYSTEM_TIME_NEW (the pvclock update goes through the vCPU's pfn cache)
//    and then OUTs; floor/kvm_out_raw: the same guest's bare OUT loop. `update_ns` is
//    the difference: what one guest-requested pvclock update costs.
// Every benchmark is skipped with the reason when /dev/kvm is unusable.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "common/errors.hpp"
#include "floors.hpp"
#include "gpc_guest/abi.h"
#include "kvm/guest_vm.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/vcpu_thread.hpp"
#include "kvm/unique_fd.hpp"
#include "pinning_scope.hpp"

namespace gpc::bench {
namespace {

constexpr auto kHarnessWindow = std::chrono::milliseconds(10);

bool kvm_usable(benchmark::State& state) {
  static const kvm::KvmAvailability a = kvm::probe_kvm();
  if (!a.usable) state.SkipWithError(("/dev/kvm unusable: " + a.reason).c_str());
  return a.usable;
}

bool is_bench_out(const kvm_run& run) {
  return run.exit_reason == KVM_EXIT_IO && run.io.direction == KVM_EXIT_IO_OUT && run.io.port == GPC_BENCH_PORT;
}

// ns per bare KVM_RUN of the pingpong guest, measured without Google Benchmark.
double raw_pingpong_ns(uint64_t runs) {
  kvm::Kvm sys;
  kvm::GuestVm g(sys, {"pingpong", 1, nullptr});
  const int fd = g.vcpu(0).fd();
  for (int i = 0; i < 100; ++i) ioctl(fd, KVM_RUN, 0);
  const uint64_t t0 = LoopTimer::thread_cpu_ns();
  for (uint64_t i = 0; i < runs; ++i) ioctl(fd, KVM_RUN, 0);
  return static_cast<double>(LoopTimer::thread_cpu_ns() - t0) /
         static_cast<double>(runs);
}

void BM_floor_kvm_exit_raw(benchmark::State& state) {
  if (!kvm_usable(state)) return;
  try {
    PinningScope pin(spread_pu(0));
    kvm::Kvm sys;
    kvm::GuestVm g(sys, {"pingpong", 1, nullptr});
    const int fd = g.vcpu(0).fd();
    const kvm_run* run = g.vcpu(0).run_state();
    LoopTimer t;
    t.start();
    for (auto _ : state) {
      if (ioctl(fd, KVM_RUN, 0) != 0 || !is_bench_out(*run)) {
        state.SkipWithError("KVM_RUN of the pingpong guest did not exit on the bench port");
        break;
      }
    }
    finish_floor(state, "kvm_exit_raw", t.ns_per_op(state));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

void BM_kvm_exit_harness(benchmark::State& state) {
  if (!kvm_usable(state)) return;
  try {
    kvm::Kvm sys;
    kvm::GuestVm g(sys, {"pingpong", 1, nullptr});
    kvm::VcpuThread vt(g.vcpu(0), spread_pu(0));
    kvm::VcpuRunOptions o;
    o.host_deadline = kHarnessWindow;
    o.time_exits = true;
    double total_ns = 0, total_cpu_ns = 0, total_runs = 0;
    for (auto _ : state) {
      vt.start(o);
      vt.wait(std::chrono::seconds(10));
      const kvm::VcpuRunResult r = vt.take_result();
      if (!r.ok() || r.runs == 0) {
        state.SkipWithError(("harness run failed: " + r.message).c_str());
        break;
      }
      total_ns += r.elapsed_ns;
      total_cpu_ns += r.cpu_ns;
      total_runs += static_cast<double>(r.runs);
      state.SetIterationTime(r.elapsed_ns * 1e-9);
    }
    state.counters["exits"] = total_runs;
    if (total_runs > 0) state.counters["ns_per_exit"] = total_ns / total_runs;
    // The ratio uses the vCPU thread's CPU time per exit, as the floor does (floors.hpp).
    if (total_runs > 0) state.counters["cpu_ns_per_exit"] = total_cpu_ns / total_runs;
    if (total_runs > 0)
      finish_vs_floor(state, "kvm_exit_raw", total_cpu_ns / total_runs, [] {
        PinningScope pin(spread_pu(0));
        return raw_pingpong_ns(2000);
      });
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// ---- pvclock update: a real-mode guest, nothing but ioctls ----------------------------------

constexpr uint64_t kMem = 0x10000;
constexpr uint64_t kOutAt = 0x1000;
constexpr uint64_t kWrmsrAt = 0x1100;
constexpr uint16_t kOutPort = 0x10, kWrmsrPort = 0x11;
// out 0x10, al ; jmp back to the out
const unsigned char kOutLoop[] = {0xe6, kOutPort, 0xeb, 0xfc};
// mov ecx, MSR_KVM_SYSTEM_TIME_NEW ; mov eax, 0x2000 | enable ; xor edx, edx ; wrmsr ;
// out 0x11, al ; jmp back to the mov ecx
const unsigned char kWrmsrLoop[] = {0x66, 0xb9, 0x01, 0x4d, 0x56, 0x4b, 0x66, 0xb8, 0x01, 0x20, 0x00,
                                    0x00, 0x66, 0x31, 0xd2, 0x0f, 0x30, 0xe6, kWrmsrPort, 0xeb, 0xeb};

class RealModeVm {
 public:
  explicit RealModeVm(uint64_t rip) {
    try {
      init(rip);
    } catch (...) {
      release();  // no destructor runs for a half-built object
      throw;
    }
  }
  ~RealModeVm() { release(); }
  RealModeVm(const RealModeVm&) = delete;
  RealModeVm& operator=(const RealModeVm&) = delete;

  // One KVM_RUN; true if it exited with an OUT to `port`.
  bool run_once(uint16_t port) {
    return ioctl(vcpu_.get(), KVM_RUN, 0) == 0 && run_->exit_reason == KVM_EXIT_IO && run_->io.port == port;
  }
  uint32_t pvclock_version() const {
    uint32_t v;
    std::memcpy(&v, static_cast<const char*>(mem_) + 0x2000, sizeof v);
    return v;
  }

 private:
  void init(uint64_t rip) {
    kvm_ = kvm::UniqueFd(open(kvm::Kvm::default_device().c_str(), O_RDWR | O_CLOEXEC));
    must(kvm_.get() >= 0, "open /dev/kvm");
    vm_ = kvm::UniqueFd(ioctl(kvm_.get(), KVM_CREATE_VM, 0));
    must(vm_.get() >= 0, "KVM_CREATE_VM");
    mem_ = mmap(nullptr, kMem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(mem_ != MAP_FAILED, "mmap guest memory");
    std::memcpy(static_cast<char*>(mem_) + kOutAt, kOutLoop, sizeof kOutLoop);
    std::memcpy(static_cast<char*>(mem_) + kWrmsrAt, kWrmsrLoop, sizeof kWrmsrLoop);
    kvm_userspace_memory_region r{0, 0, 0, kMem, reinterpret_cast<uint64_t>(mem_)};
    must(ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &r) == 0, "KVM_SET_USER_MEMORY_REGION");
    vcpu_ = kvm::UniqueFd(ioctl(vm_.get(), KVM_CREATE_VCPU, 0));
    must(vcpu_.get() >= 0, "KVM_CREATE_VCPU");
    run_size_ = ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    void* p = mmap(nullptr, static_cast<size_t>(run_size_), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_.get(), 0);
    must(p != MAP_FAILED, "mmap kvm_run");
    run_ = static_cast<kvm_run*>(p);
    kvm_sregs s{};
    must(ioctl(vcpu_.get(), KVM_GET_SREGS, &s) == 0, "KVM_GET_SREGS");
    s.cs.base = 0;
    s.cs.selector = 0;
    must(ioctl(vcpu_.get(), KVM_SET_SREGS, &s) == 0, "KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = rip;
    regs.rflags = 2;
    must(ioctl(vcpu_.get(), KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");
  }
  void release() {
    if (run_) munmap(run_, static_cast<size_t>(run_size_));
    if (mem_ != MAP_FAILED) munmap(mem_, kMem);
    run_ = nullptr;
    mem_ = MAP_FAILED;
  }
  static void must(bool ok, const char* what) {
    if (!ok) throw SystemError(what, errno);
  }
  kvm::UniqueFd kvm_, vm_, vcpu_;
  void* mem_ = MAP_FAILED;
  kvm_run* run_ = nullptr;
  int run_size_ = 0;
};

double raw_out_ns(uint64_t runs) {
  RealModeVm v(kOutAt);
  for (int i = 0; i < 100; ++i) v.run_once(kOutPort);
  const uint64_t t0 = LoopTimer::thread_cpu_ns();
  for (uint64_t i = 0; i < runs; ++i) v.run_once(kOutPort);
  return static_cast<double>(LoopTimer::thread_cpu_ns() - t0) /
         static_cast<double>(runs);
}

void BM_floor_kvm_out_raw(benchmark::State& state) {
  if (!kvm_usable(state)) return;
  try {
    PinningScope pin(spread_pu(0));
    RealModeVm v(kOutAt);
    LoopTimer t;
    t.start();
    for (auto _ : state)
      if (!v.run_once(kOutPort)) {
        state.SkipWithError("the real-mode OUT loop did not exit on its port");
        break;
      }
    finish_floor(state, "kvm_out_raw", t.ns_per_op(state));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

void BM_kvm_pvclock_update(benchmark::State& state) {
  if (!kvm_usable(state)) return;
  try {
    PinningScope pin(spread_pu(0));
    RealModeVm v(kWrmsrAt);
    const uint32_t version0 = v.pvclock_version();
    LoopTimer t;
    t.start();
    for (auto _ : state)
      if (!v.run_once(kWrmsrPort)) {
        state.SkipWithError("the wrmsr loop did not exit on its port");
        break;
      }
    const double ns = t.ns_per_op(state);
    // Each KVM_RUN ran one wrmsr; the kernel rewrote the page (version += 2) before re-entry.
    const double updates = (v.pvclock_version() - version0) / 2.0;
    state.counters["updates_per_run"] = state.iterations() ? updates / static_cast<double>(state.iterations()) : 0;
    const auto measure_floor = [] {
      PinningScope p(spread_pu(0));
      return raw_out_ns(2000);
    };
    finish_vs_floor(state, "kvm_out_raw", ns, measure_floor);
    state.counters["update_ns"] = ns - Floors::get_or_measure("kvm_out_raw", measure_floor);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

BENCHMARK(BM_floor_kvm_exit_raw)->Name("floor/kvm_exit_raw");
BENCHMARK(BM_kvm_exit_harness)->Name("kvm/exit_harness")->UseManualTime();
BENCHMARK(BM_floor_kvm_out_raw)->Name("floor/kvm_out_raw");
BENCHMARK(BM_kvm_pvclock_update)->Name("kvm/pvclock_update");

}  // namespace
}  // namespace gpc::bench
