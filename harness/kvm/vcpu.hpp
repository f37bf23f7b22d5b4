// One KVM vCPU: its fd, its mmap'ed kvm_run, register access and KVM_RUN.
#pragma once

#include <linux/kvm.h>

#include <vector>

#include "kvm/unique_fd.hpp"
#include "kvm/vm.hpp"

namespace gpc::kvm {

class Vcpu {
 public:
  // The Vm must outlive the vCPU.
  Vcpu(const Vm& vm, int id);
  Vcpu(Vcpu&& other) noexcept;
  Vcpu& operator=(Vcpu&&) = delete;
  Vcpu(const Vcpu&) = delete;
  ~Vcpu();

  int id() const { return id_; }
  int fd() const { return fd_.get(); }
  const Vm& vm() const { return *vm_; }
  kvm_run* run_state() const { return run_; }

  // KVM_RUN once. Returns 0 or the errno (EINTR: a signal or immediate_exit).
  int run() noexcept;
  // KVM_RUN once, throwing on any error but EINTR (returned as false).
  bool run_or_throw();

  kvm_regs get_regs() const;
  void set_regs(const kvm_regs& regs);
  kvm_sregs get_sregs() const;
  void set_sregs(const kvm_sregs& sregs);
  int try_set_sregs(const kvm_sregs& sregs) noexcept;
  void set_cpuid(const std::vector<kvm_cpuid_entry2>& entries);
  UniqueFd stats_fd() const;  // KVM_GET_STATS_FD

  long ioctl(unsigned long request, const void* arg, const char* name) const;
  int try_ioctl(unsigned long request, const void* arg) const noexcept;

 private:
  const Vm* vm_;
  int id_;
  UniqueFd fd_;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
};

}  // namespace gpc::kvm
