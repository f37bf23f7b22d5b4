// The VMM objects on their own: device, capabilities, memslots, ioctl error forms, stats.
#include <sys/mman.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "kvm/binary_stats.hpp"
#include "kvm/kvm_ioctl.hpp"
#include "kvm/kvm_system.hpp"
#include "kvm/kvm_test_support.hpp"
#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"

namespace gpc::kvm {
namespace {

TEST(KvmDevice, MissingDeviceIsUnavailableWithReasonAndFix) {
  try {
    Kvm kvm("/dev/nonexistent-kvm");
    FAIL() << "opening a missing device succeeded";
  } catch (const UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/nonexistent-kvm does not exist"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("modprobe"), std::string::npos) << e.what();
  }
  const KvmAvailability a = probe_kvm("/dev/nonexistent-kvm");
  EXPECT_FALSE(a.usable);
  EXPECT_FALSE(a.reason.empty());
}

TEST(KvmDevice, NonKvmDeviceIsRejected) {
  // /dev/null opens fine but is not KVM: the API-version ioctl fails, never crashes.
  EXPECT_THROW(Kvm("/dev/null"), std::exception);
}

TEST(KvmDevice, ApiVersionAndCapabilities) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  EXPECT_EQ(kvm.api_version(), KVM_API_VERSION);
  EXPECT_GT(kvm.vcpu_mmap_size(), 0);
  EXPECT_GT(kvm.check_extension(KVM_CAP_USER_MEMORY), 0);
  EXPECT_EQ(kvm.check_extension(100000), 0) << "an unknown capability must read as absent";
  EXPECT_FALSE(kvm.supported_cpuid().empty());
}

TEST(KvmVm, MemslotIoctlInBothForms) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  Vm vm(kvm);
  const size_t size = 2 << 20;
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  vm.add_memslot(0, 0, mem, size);
  EXPECT_EQ(vm.gpa_to_hva(0x1000, 16), static_cast<char*>(mem) + 0x1000);
  EXPECT_THROW(vm.gpa_to_hva(size - 8, 16), std::out_of_range);
  // negative: an hva that is not page aligned is EINVAL, as errno and as SystemError
  EXPECT_EQ(vm.try_add_memslot(1, size, static_cast<char*>(mem) + 1, 4096), EINVAL);
  try {
    vm.add_memslot(1, size, static_cast<char*>(mem) + 1, 4096);
    FAIL() << "misaligned memslot accepted";
  } catch (const SystemError& e) {
    EXPECT_EQ(e.error(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("KVM_SET_USER_MEMORY_REGION"), std::string::npos);
  }
  EXPECT_FALSE(vm.is_dead());
  vm.delete_memslot(0);
  EXPECT_TRUE(vm.memslots().empty());
  munmap(mem, size);
}

TEST(KvmVcpu, InvalidSregsReturnErrno) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  Vm vm(kvm);
  Vcpu vcpu(vm, 0);
  kvm_sregs s = vcpu.get_sregs();
  s.cr0 = 0x80000000;  // paging without protection: architecturally invalid
  EXPECT_EQ(vcpu.try_set_sregs(s), EINVAL);
  EXPECT_THROW(vcpu.set_sregs(s), SystemError);
}

TEST(KvmStats, VmAndVcpuDescriptorsByName) {
  GPC_REQUIRE_KVM();
  Kvm kvm;
  if (!kvm.check_extension(KVM_CAP_BINARY_STATS_FD)) GTEST_SKIP() << "no KVM_CAP_BINARY_STATS_FD";
  Vm vm(kvm);
  Vcpu vcpu(vm, 0);
  BinaryStats vm_stats(vm.stats_fd());
  BinaryStats vcpu_stats(vcpu.stats_fd());
  EXPECT_FALSE(vm_stats.descriptors().empty());
  const StatsSnapshot snap = vcpu_stats.read();
  EXPECT_TRUE(snap.count("exits")) << "vCPU stats lack 'exits'";
  EXPECT_TRUE(snap.at("exits").cumulative);
  const auto d = stats_delta(snap, vcpu_stats.read());
  EXPECT_EQ(d.at("exits"), 0.0);  // nothing ran in between
}

}  // namespace
}  // namespace gpc::kvm
