#include "kvm/kvm_system.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/errors.hpp"
#include "kvm/kvm_ioctl.hpp"

namespace gpc::kvm {

std::string Kvm::default_device() {
  const char* env = std::getenv("GPC_KVM_DEVICE");
  return env && *env ? env : "/dev/kvm";
}

namespace {

std::string open_failure_reason(const std::string& device, int err) {
  switch (err) {
    case ENOENT:
      return device + " does not exist: load the KVM module (modprobe kvm_intel or kvm_amd) "
                      "and enable virtualization in the firmware, or run on a machine with KVM";
    case EACCES:
    case EPERM:
      return "no permission to open " + device +
             ": add yourself to the 'kvm' group (then log in again) or run as root";
    default:
      return "cannot open " + device + ": " + std::strerror(err);
  }
}

}  // namespace

Kvm::Kvm(const std::string& device) : device_(device) {
  fd_ = UniqueFd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd_.valid()) throw UnavailableError(open_failure_reason(device, errno));
  api_version_ = static_cast<int>(ioctl_or_throw(fd_.get(), KVM_GET_API_VERSION, 0ul,
                                                 "KVM_GET_API_VERSION"));
  if (api_version_ != KVM_API_VERSION)
    throw UnavailableError(device + " speaks KVM API " + std::to_string(api_version_) +
                           ", gpcbench needs " + std::to_string(KVM_API_VERSION));
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
