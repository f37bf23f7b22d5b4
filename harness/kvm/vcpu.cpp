#include "kvm/vcpu.hpp"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/errors.hpp"
#include "kvm/kvm_ioctl.hpp"

namespace gpc::kvm {

Vcpu::Vcpu(const Vm& vm, int id) : vm_(&vm), id_(id) {
  fd_ = UniqueFd(static_cast<int>(ioctl_or_throw(vm.fd(), KVM_CREATE_VCPU,
                                                 static_cast<unsigned long>(id),
                                                 "KVM_CREATE_VCPU", vm.fd())));
  run_size_ = static_cast<size_t>(vm.kvm().vcpu_mmap_size());
  void* p = ::mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  if (p == MAP_FAILED) throw SystemError("mmap(kvm_run)", errno);
  run_ = static_cast<kvm_run*>(p);
}

Vcpu::Vcpu(Vcpu&& other) noexcept
    : vm_(other.vm_),
      id_(other.id_),
      fd_(std::move(other.fd_)),
      run_(std::exchange(other.run_, nullptr)),
      run_size_(std::exchange(other.run_size_, 0)) {}

Vcpu::~Vcpu() {
  if (run_) ::munmap(run_, run_size_);
}

int Vcpu::run() noexcept { return ioctl_errno(fd_.get(), KVM_RUN, 0ul); }

bool Vcpu::run_or_throw() {
  const int err = run();
  if (err == 0) return true;
  if (err == EINTR) return false;
  if (err == EIO && vm_is_dead(vm_->fd())) throw VmDeadError("KVM_RUN");
  throw SystemError("KVM_RUN", err);
}

kvm_regs Vcpu::get_regs() const {
  kvm_regs r{};
  ioctl(KVM_GET_REGS, &r, "KVM_GET_REGS");
  return r;
}

void Vcpu::set_regs(const kvm_regs& regs) { ioctl(KVM_SET_REGS, &regs, "KVM_SET_REGS"); }

kvm_sregs Vcpu::get_sregs() const {
  kvm_sregs s{};
  ioctl(KVM_GET_SREGS, &s, "KVM_GET_SREGS");
  return s;
}

void Vcpu::set_sregs(const kvm_sregs& sregs) { ioctl(KVM_SET_SREGS, &sregs, "KVM_SET_SREGS"); }

int Vcpu::try_set_sregs(const kvm_sregs& sregs) noexcept {
  return try_ioctl(KVM_SET_SREGS, &sregs);
}

void Vcpu::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
  std::vector<unsigned char> buf(kCpuid2HeaderSize + entries.size() * sizeof(kvm_cpuid_entry2));
  const auto nent = static_cast<uint32_t>(entries.size());
  std::memcpy(buf.data(), &nent, sizeof nent);
  std::memcpy(buf.data() + kCpuid2HeaderSize, entries.data(), entries.size() * sizeof(kvm_cpuid_entry2));
  ioctl(kKvmSetCpuid2, buf.data(), "KVM_SET_CPUID2");
}

UniqueFd Vcpu::stats_fd() const {
  return UniqueFd(static_cast<int>(
      ioctl_or_throw(fd_.get(), KVM_GET_STATS_FD, 0ul, "KVM_GET_STATS_FD (vCPU)", vm_->fd())));
}

long Vcpu::ioctl(unsigned long request, const void* arg, const char* name) const {
  return ioctl_or_throw(fd_.get(), request, arg, name, vm_->fd());
}

int Vcpu::try_ioctl(unsigned long request, const void* arg) const noexcept {
  return ioctl_errno(fd_.get(), request, arg);
}

}  // namespace gpc::kvm
