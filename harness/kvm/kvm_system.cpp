#include "kvm/kvm_system.hpp"

#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/errors.hpp"
#include "env/kvm_device.hpp"
#include "kvm/kvm_ioctl.hpp"

namespace gpc::kvm {

std::string Kvm::default_device() { return configured_kvm_device(); }

Kvm::Kvm(const std::string& device) : device_(device) {
  // The check `gpcbench info` makes too (env/kvm_device.cpp): a character device that
  // answers KVM_GET_API_VERSION with 12, or UnavailableError naming GPC_KVM_DEVICE.
  KvmDevice opened = open_kvm_device(device);
  fd_ = std::move(opened.fd);
  api_version_ = opened.api_version;
  vcpu_mmap_size_ = static_cast<int>(ioctl_or_throw(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0ul,
                                                    "KVM_GET_VCPU_MMAP_SIZE"));
}

int Kvm::check_extension(long cap) const {
  const long rc = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return rc < 0 ? 0 : static_cast<int>(rc);
}

std::vector<kvm_cpuid_entry2> Kvm::supported_cpuid() const {
  // The kernel says E2BIG until the buffer is large enough.
  for (unsigned n = 64; n <= 4096; n *= 2) {
    std::vector<unsigned char> buf(kCpuid2HeaderSize + n * sizeof(kvm_cpuid_entry2));
    std::memcpy(buf.data(), &n, sizeof n);  // nent
    const int err = ioctl_errno(fd_.get(), kKvmGetSupportedCpuid, buf.data());
    if (err == E2BIG) continue;
    if (err != 0) throw SystemError("KVM_GET_SUPPORTED_CPUID", err);
    uint32_t nent;
    std::memcpy(&nent, buf.data(), sizeof nent);
    std::vector<kvm_cpuid_entry2> entries(nent);
    std::memcpy(entries.data(), buf.data() + kCpuid2HeaderSize, nent * sizeof(kvm_cpuid_entry2));
    return entries;
  }
  throw SystemError("KVM_GET_SUPPORTED_CPUID", E2BIG);
}

KvmAvailability probe_kvm(const std::string& device) {
  try {
    Kvm kvm(device);
    return {true, ""};
  } catch (const std::exception& e) {
    return {false, e.what()};
  }
}

}  // namespace gpc::kvm
