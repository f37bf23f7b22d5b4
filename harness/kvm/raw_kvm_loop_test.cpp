// The floor under the harness: bare KVM_RUN loops written with nothing but open, ioctl
// and mmap (no Kvm/Vm/Vcpu classes, no threads, no ucalls), on a real-mode guest of a
// few hand-assembled bytes. Prints the exit round trip and the pvclock update cost so
// `gpcbench run pingpong` / `run pvclock` figures can be read against them.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "kvm/kvm_system.hpp"
#include "kvm/kvm_test_support.hpp"

namespace {

constexpr uint64_t kMemSize = 0x10000;
constexpr uint64_t kOutLoop = 0x1000;    // out 0x10, al; jmp $-2
constexpr uint64_t kWrmsrLoop = 0x1100;  // wrmsr(KVM_SYSTEM_TIME_NEW, 0x2000|1); out 0x11, al; jmp
constexpr uint64_t kPvclockPage = 0x2000;

const unsigned char kOutCode[] = {0xe6, 0x10, 0xeb, 0xfc};
const unsigned char kWrmsrCode[] = {
    0x66, 0xb9, 0x01, 0x4d, 0x56, 0x4b,  // mov ecx, 0x4b564d01
    0x66, 0xb8, 0x01, 0x20, 0x00, 0x00,  // mov eax, 0x2001
    0x66, 0x31, 0xd2,                    // xor edx, edx
    0x0f, 0x30,                          // wrmsr
    0xe6, 0x11,                          // out 0x11, al
    0xeb, 0xeb,                          // jmp kWrmsrLoop
};

struct RawVm {
  int kvm = -1, vm = -1, vcpu = -1;
  void* mem = MAP_FAILED;
  kvm_run* run = nullptr;
  int run_size = 0;
  ~RawVm() {
    if (run) munmap(run, run_size);
    if (mem != MAP_FAILED) munmap(mem, kMemSize);
    for (int fd : {vcpu, vm, kvm})
      if (fd >= 0) close(fd);
  }
};

struct ExitTimes {
  double mean_ns = -1;
  double p50_ns = -1;
};

// ns per KVM_RUN over `n` exits of the loop at `rip`, which must exit on `port`. The
// median is the figure to compare: on a shared machine the mean carries preemptions.
ExitTimes exit_times(RawVm& v, uint64_t rip, uint16_t port, int n) {
  kvm_regs regs{};
  regs.rip = rip;
  regs.rflags = 2;
  if (ioctl(v.vcpu, KVM_SET_REGS, &regs) < 0) return {};
  for (int i = 0; i < 100; ++i) ioctl(v.vcpu, KVM_RUN, 0);  // warm up
  std::vector<double> each(static_cast<size_t>(n));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (ioctl(v.vcpu, KVM_RUN, 0) < 0) return {};
    each[static_cast<size_t>(i)] =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (v.run->exit_reason != KVM_EXIT_IO || v.run->io.port != port) return {};
  }
  ExitTimes t;
  t.mean_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / n;
  std::nth_element(each.begin(), each.begin() + n / 2, each.end());
  t.p50_ns = each[static_cast<size_t>(n / 2)];
  return t;
}

TEST(RawKvmLoop, ExitRoundTripAndPvclockUpdateCost) {
  GPC_REQUIRE_KVM();
  RawVm v;
  v.kvm = open(gpc::kvm::Kvm::default_device().c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(v.kvm, 0);
  v.vm = ioctl(v.kvm, KVM_CREATE_VM, 0);
  ASSERT_GE(v.vm, 0);
  v.mem = mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(v.mem, MAP_FAILED);
  std::memcpy(static_cast<char*>(v.mem) + kOutLoop, kOutCode, sizeof kOutCode);
  std::memcpy(static_cast<char*>(v.mem) + kWrmsrLoop, kWrmsrCode, sizeof kWrmsrCode);
  kvm_userspace_memory_region region{0, 0, 0, kMemSize, reinterpret_cast<uint64_t>(v.mem)};
  ASSERT_EQ(ioctl(v.vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
  v.vcpu = ioctl(v.vm, KVM_CREATE_VCPU, 0);
  ASSERT_GE(v.vcpu, 0);
  v.run_size = ioctl(v.kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  v.run = static_cast<kvm_run*>(mmap(nullptr, v.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v.vcpu, 0));
  ASSERT_NE(v.run, MAP_FAILED);
  kvm_sregs sregs{};
  ASSERT_EQ(ioctl(v.vcpu, KVM_GET_SREGS, &sregs), 0);
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  ASSERT_EQ(ioctl(v.vcpu, KVM_SET_SREGS, &sregs), 0);

  const int n = 20000;
  const ExitTimes out = exit_times(v, kOutLoop, 0x10, n);
  ASSERT_GT(out.mean_ns, 0) << "bare OUT loop failed";
  const ExitTimes wrmsr = exit_times(v, kWrmsrLoop, 0x11, n);
  ASSERT_GT(wrmsr.mean_ns, 0) << "wrmsr + OUT loop failed";

  uint32_t version;
  std::memcpy(&version, static_cast<char*>(v.mem) + kPvclockPage, sizeof version);
  EXPECT_EQ(version % 2, 0u) << "pvclock page left odd";
  EXPECT_GE(version, 2u * n) << "the MSR writes did not update the pvclock page";
  std::printf("[raw] exit round trip (OUT, real mode) per KVM_RUN: p50 %.0f ns, mean %.0f ns\n",
              out.p50_ns, out.mean_ns);
  std::printf("[raw] wrmsr(MSR_KVM_SYSTEM_TIME_NEW) + OUT per KVM_RUN: p50 %.0f ns, mean %.0f ns"
              " -> update cost (p50 difference) %.0f ns\n",
              wrmsr.p50_ns, wrmsr.mean_ns, wrmsr.p50_ns - out.p50_ns);
  RecordProperty("raw_exit_p50_ns", static_cast<int>(out.p50_ns));
  RecordProperty("raw_update_p50_ns", static_cast<int>(wrmsr.p50_ns - out.p50_ns));
}

}  // namespace
