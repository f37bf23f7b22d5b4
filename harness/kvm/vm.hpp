// A KVM virtual machine: memslots over caller-provided host memory, the VM clock,
// the binary stats fd, and the factory for vCPUs.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kvm/kvm_system.hpp"
#include "kvm/unique_fd.hpp"

namespace gpc::kvm {

struct Memslot {
  uint32_t slot;
  uint64_t gpa;
  void* hva;
  size_t size;
  uint32_t flags;
};

class Vm {
 public:
  // The Kvm object must outlive the VM.
  explicit Vm(const Kvm& kvm, unsigned long type = 0);
  Vm(Vm&&) = default;
  Vm& operator=(Vm&&) = delete;

  int fd() const { return fd_.get(); }
  const Kvm& kvm() const { return *kvm_; }
  bool uses_memory_region2() const { return region2_; }

  // Maps [gpa, gpa+size) of the guest onto [hva, hva+size) of this process. The memory
  // stays the caller's: it must outlive the VM (or the slot). Uses
  // KVM_SET_USER_MEMORY_REGION2 where KVM_CAP_USER_MEMORY2, else the original ioctl.
  void add_memslot(uint32_t slot, uint64_t gpa, void* hva, size_t size, uint32_t flags = 0);
  // Same, returning the errno instead of throwing (0 on success).
  int try_add_memslot(uint32_t slot, uint64_t gpa, void* hva, size_t size,
                      uint32_t flags = 0) noexcept;
  void delete_memslot(uint32_t slot);
  const std::vector<Memslot>& memslots() const { return slots_; }

  // Host address of guest-physical [gpa, gpa+len); throws std::out_of_range when the
  // range is not inside one memslot. Memslots are set up before vCPUs run, so vCPU
  // threads may call this without a lock.
  void* gpa_to_hva(uint64_t gpa, size_t len) const;
  template <typename T>
  T* gpa_ptr(uint64_t gpa) const {
    return static_cast<T*>(gpa_to_hva(gpa, sizeof(T)));
  }

  kvm_clock_data get_clock() const;  // KVM_GET_CLOCK: the VM's kvmclock, ns
  UniqueFd stats_fd() const;         // KVM_GET_STATS_FD

  // Generic VM ioctl in both forms, for calls without a wrapper.
  long ioctl(unsigned long request, const void* arg, const char* name) const;
  int try_ioctl(unsigned long request, const void* arg) const noexcept;
  bool is_dead() const;

 private:
  const Kvm* kvm_;
  UniqueFd fd_;
  bool region2_ = false;
  std::vector<Memslot> slots_;
};

}  // namespace gpc::kvm
