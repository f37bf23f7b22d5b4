// ioctl wrappers in the two forms every KVM object offers: one that throws a
// SystemError naming the ioctl, one that returns the errno for negative tests.
// Also the uAPI pieces newer than Debian 12's <linux/kvm.h>.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/errors.hpp"

// KVM_SET_USER_MEMORY_REGION2 (Linux 6.8, KVM_CAP_USER_MEMORY2): not in Debian 12's headers.
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
struct kvm_userspace_memory_region2 {
  __u32 slot;
  __u32 flags;
  __u64 guest_phys_addr;
  __u64 memory_size;
  __u64 userspace_addr;
  __u64 guest_memfd_offset;
  __u32 guest_memfd;
  __u32 pad1;
  __u64 pad2[14];
};
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif

namespace gpc::kvm {

// Debian 12's uAPI headers declare flexible arrays with __DECLARE_FLEX_ARRAY, which in
// C++ adds a 1-byte empty struct before the array: sizeof(kvm_cpuid2) becomes 12, so the
// ioctl numbers built from it and the offsets of `entries` / `name` are wrong in C++.
// These use the C layout; never use kvm_cpuid2::entries or kvm_stats_desc::name in C++.
inline constexpr size_t kCpuid2HeaderSize = 8;      // nent, padding
inline constexpr size_t kStatsDescHeaderSize = 16;  // flags .. bucket_size, then the name
inline constexpr unsigned long kKvmGetSupportedCpuid =
    _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, kCpuid2HeaderSize);
inline constexpr unsigned long kKvmSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, kCpuid2HeaderSize);

// An ioctl on a VM or vCPU failed with EIO and the VM answers every ioctl with EIO:
// KVM marked it dead (KVM_BUG_ON or a fatal internal error; the kernel log says which).
class VmDeadError : public SystemError {
 public:
  explicit VmDeadError(const std::string& what_call);
};

// Returns 0 or the errno of the failed ioctl (EINTR is not retried: callers decide).
int ioctl_errno(int fd, unsigned long request, const void* arg);
int ioctl_errno(int fd, unsigned long request, unsigned long arg);

// Returns the ioctl's non-negative result or throws SystemError("KVM_X", errno). When
// `vm_fd` >= 0 and the call failed with EIO, asks the VM whether KVM killed it and throws
// VmDeadError if so.
long ioctl_or_throw(int fd, unsigned long request, const void* arg, const char* name,
                    int vm_fd = -1);
long ioctl_or_throw(int fd, unsigned long request, unsigned long arg, const char* name,
                    int vm_fd = -1);

// True when the VM answers a harmless ioctl with EIO: KVM has killed it.
bool vm_is_dead(int vm_fd);

}  // namespace gpc::kvm
