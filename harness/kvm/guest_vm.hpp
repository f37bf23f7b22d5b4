// A VM ready to run one of gpcbench's embedded guests: low memory (page tables, GDT,
// boot blocks, code, stacks) in memslot 0, scenario data in memslot 1, and N vCPUs in
// long mode at the guest's entry, each with its boot block in RDI (gpc_guest/abi.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gpc_guest/abi.h"
#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"

namespace gpc::kvm {

// Anonymous private memory, unmapped on destruction (huge-page-aligned, so a 2 MB
// region can be backed by one THP where the policy allows).
class HostMemory {
 public:
  explicit HostMemory(size_t size);
  HostMemory(HostMemory&& other) noexcept;
  HostMemory& operator=(HostMemory&&) = delete;
  ~HostMemory();
  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* map_ = nullptr;
  size_t map_size_ = 0;
  void* data_ = nullptr;
  size_t size_ = 0;
};

struct GuestVmConfig {
  std::string guest;  // embedded image name: pvclock, pingpong, reader, selftest
  int vcpus = 1;
  // Host memory behind the data slot (GPC_GUEST_DATA_SIZE bytes), e.g. a memfd mapping
  // that invalidators act on. nullptr: GuestVm allocates anonymous memory.
  void* data_hva = nullptr;
};

class GuestVm {
 public:
  GuestVm(const Kvm& kvm, const GuestVmConfig& config);

  Vm& vm() { return vm_; }
  const Vm& vm() const { return vm_; }
  int vcpu_count() const { return static_cast<int>(vcpus_.size()); }
  Vcpu& vcpu(int i) { return *vcpus_.at(static_cast<size_t>(i)); }
  // Vcpu i's boot block; fill it before the first run. `stop` may be set while it runs.
  gpc_guest_boot& boot(int i) const;
  // Start of vCPU i's GPC_GUEST_DATA_STRIDE bytes inside the data slot.
  static uint64_t data_gpa(int i) { return GPC_GUEST_DATA_GPA + uint64_t(i) * GPC_GUEST_DATA_STRIDE; }
  void* data_hva(int i) const { return vm_.gpa_to_hva(data_gpa(i), GPC_GUEST_DATA_STRIDE); }
  // Sets every vCPU's stop flag (the guests finish with REPORT and DONE).
  void request_guest_stop();

 private:
  Vm vm_;
  HostMemory low_;
  std::unique_ptr<HostMemory> own_data_;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
};

}  // namespace gpc::kvm
