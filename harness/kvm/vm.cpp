#include "kvm/vm.hpp"

#include <sys/ioctl.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "kvm/kvm_ioctl.hpp"

namespace gpc::kvm {

Vm::Vm(const Kvm& kvm, unsigned long type) : kvm_(&kvm) {
  int fd = -1;
  // KVM_CREATE_VM can fail transiently with EINTR while the kernel sets up the VM.
  for (int attempt = 0; attempt < 10; ++attempt) {
    fd = ::ioctl(kvm.fd(), KVM_CREATE_VM, type);
    if (fd >= 0 || errno != EINTR) break;
  }
  if (fd < 0) throw SystemError("KVM_CREATE_VM", errno);
  fd_ = UniqueFd(fd);
  region2_ = ::ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2) > 0;
}

int Vm::try_add_memslot(uint32_t slot, uint64_t gpa, void* hva, size_t size,
                        uint32_t flags) noexcept {
  int err;
  if (region2_) {
    kvm_userspace_memory_region2 r{};
    r.slot = slot;
    r.flags = flags;
    r.guest_phys_addr = gpa;
    r.memory_size = size;
    r.userspace_addr = reinterpret_cast<uint64_t>(hva);
    err = ioctl_errno(fd_.get(), KVM_SET_USER_MEMORY_REGION2, &r);
  } else {
    kvm_userspace_memory_region r{};
    r.slot = slot;
    r.flags = flags;
    r.guest_phys_addr = gpa;
    r.memory_size = size;
    r.userspace_addr = reinterpret_cast<uint64_t>(hva);
    err = ioctl_errno(fd_.get(), KVM_SET_USER_MEMORY_REGION, &r);
  }
  if (err != 0) return err;
  for (auto it = slots_.begin(); it != slots_.end(); ++it)
    if (it->slot == slot) {
      slots_.erase(it);
      break;
    }
  if (size != 0) slots_.push_back({slot, gpa, hva, size, flags});
  return 0;
}

void Vm::add_memslot(uint32_t slot, uint64_t gpa, void* hva, size_t size, uint32_t flags) {
  const int err = try_add_memslot(slot, gpa, hva, size, flags);
  if (err == 0) return;
  const char* name = region2_ ? "KVM_SET_USER_MEMORY_REGION2" : "KVM_SET_USER_MEMORY_REGION";
  if (err == EIO && vm_is_dead(fd_.get())) throw VmDeadError(name);
  throw SystemError(std::string(name) + " (slot " + std::to_string(slot) + ")", err);
}

void Vm::delete_memslot(uint32_t slot) {
  for (const Memslot& s : slots_)
    if (s.slot == slot) {
      add_memslot(slot, s.gpa, s.hva, 0, s.flags);  // size 0 deletes the slot
      return;
    }
  throw std::out_of_range("no memslot " + std::to_string(slot));
}

void* Vm::gpa_to_hva(uint64_t gpa, size_t len) const {
  for (const Memslot& s : slots_)
    if (gpa >= s.gpa && len <= s.size && gpa - s.gpa <= s.size - len)
      return static_cast<char*>(s.hva) + (gpa - s.gpa);
  throw std::out_of_range(fmt::format("guest-physical range {:#x}+{:#x} is outside every memslot",
                                      gpa, len));
}

kvm_clock_data Vm::get_clock() const {
  kvm_clock_data data{};
  ioctl_or_throw(fd_.get(), KVM_GET_CLOCK, &data, "KVM_GET_CLOCK", fd_.get());
  return data;
}

UniqueFd Vm::stats_fd() const {
  return UniqueFd(static_cast<int>(
      ioctl_or_throw(fd_.get(), KVM_GET_STATS_FD, 0ul, "KVM_GET_STATS_FD (VM)", fd_.get())));
}

long Vm::ioctl(unsigned long request, const void* arg, const char* name) const {
  return ioctl_or_throw(fd_.get(), request, arg, name, fd_.get());
}

int Vm::try_ioctl(unsigned long request, const void* arg) const noexcept {
  return ioctl_errno(fd_.get(), request, arg);
}

bool Vm::is_dead() const { return vm_is_dead(fd_.get()); }

}  // namespace gpc::kvm
