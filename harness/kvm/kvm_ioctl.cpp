#include "kvm/kvm_ioctl.hpp"

#include <sys/ioctl.h>

#include <cerrno>

namespace gpc::kvm {

VmDeadError::VmDeadError(const std::string& what_call)
    : SystemError(what_call + " (KVM killed the VM: every ioctl now fails; see the kernel log)",
                  EIO) {}

int ioctl_errno(int fd, unsigned long request, const void* arg) {
  return ::ioctl(fd, request, arg) < 0 ? errno : 0;
}

int ioctl_errno(int fd, unsigned long request, unsigned long arg) {
  return ::ioctl(fd, request, arg) < 0 ? errno : 0;
}

bool vm_is_dead(int vm_fd) {
  // kvm_vm_ioctl() answers EIO before looking at the request once the VM is dead;
  // KVM_CHECK_EXTENSION on a live VM always succeeds.
  return vm_fd >= 0 && ::ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) < 0 &&
         errno == EIO;
}

namespace {

[[noreturn]] void throw_ioctl_error(int err, const char* name, int vm_fd) {
  if (err == EIO && vm_is_dead(vm_fd)) throw VmDeadError(name);
  throw SystemError(name, err);
}

}  // namespace

long ioctl_or_throw(int fd, unsigned long request, const void* arg, const char* name,
                    int vm_fd) {
  const long rc = ::ioctl(fd, request, arg);
  if (rc < 0) throw_ioctl_error(errno, name, vm_fd);
  return rc;
}

long ioctl_or_throw(int fd, unsigned long request, unsigned long arg, const char* name,
                    int vm_fd) {
  const long rc = ::ioctl(fd, request, arg);
  if (rc < 0) throw_ioctl_error(errno, name, vm_fd);
  return rc;
}

}  // namespace gpc::kvm
