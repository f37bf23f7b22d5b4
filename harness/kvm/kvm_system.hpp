// The KVM device (/dev/kvm): API version, capabilities, the vCPU mmap size, CPUID.
#pragma once

#include <linux/kvm.h>

#include <string>
#include <vector>

#include "kvm/unique_fd.hpp"

namespace gpc::kvm {

// Why KVM cannot be used here, with the fix; empty `reason` when it can.
struct KvmAvailability {
  bool usable = false;
  std::string reason;
};

class Kvm {
 public:
  // The device to open: $GPC_KVM_DEVICE if set (tests point it at a missing path to
  // exercise the skip path), else /dev/kvm.
  static std::string default_device();

  // Throws UnavailableError with the reason and the fix when the device is missing, not
  // permitted, not a character device that answers KVM_GET_API_VERSION, or speaks another
  // API version (env/kvm_device.hpp).
  explicit Kvm(const std::string& device = default_device());

  int fd() const { return fd_.get(); }
  const std::string& device() const { return device_; }
  int api_version() const { return api_version_; }
  // KVM_CHECK_EXTENSION on the system fd: 0 when absent, else the capability's value.
  int check_extension(long cap) const;
  int vcpu_mmap_size() const { return vcpu_mmap_size_; }
  // KVM_GET_SUPPORTED_CPUID: what a vCPU may be given with KVM_SET_CPUID2.
  std::vector<kvm_cpuid_entry2> supported_cpuid() const;

 private:
  std::string device_;
  UniqueFd fd_;
  int api_version_ = 0;
  int vcpu_mmap_size_ = 0;
};

// Opens the device once to tell whether KVM is usable; never throws.
KvmAvailability probe_kvm(const std::string& device = Kvm::default_device());

}  // namespace gpc::kvm
