// KVM's Xen HVM emulation (KVM_CAP_XEN_HVM): shared_info, per-vCPU vcpu_info and runstate
// areas, all of which KVM accesses through gfn_to_pfn_caches, and event-channel delivery
// with KVM_XEN_HVM_EVTCHN_SEND. Absent on kernels without CONFIG_KVM_XEN (and on this
// project's nested test machines): callers check xen_support() first.
#pragma once

#include <cstdint>
#include <string>

#include "kvm/kvm_system.hpp"
#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"

namespace gpc::kvm {

struct XenSupport {
  int flags = 0;  // KVM_CHECK_EXTENSION(KVM_CAP_XEN_HVM): KVM_XEN_HVM_CONFIG_* bits
  bool usable = false;  // shared_info, runstate and EVTCHN_SEND all present
  std::string reason;   // why not, with what would fix it
};

XenSupport xen_support(const Kvm& kvm);

// Enables Xen HVM on the VM (hypercall MSR, 64-bit long mode) and places shared_info.
void configure_xen_vm(const Vm& vm, uint64_t shared_info_gpa);
// Gives vCPU `xen_vcpu_id` its vcpu_info and runstate areas.
void configure_xen_vcpu(const Vcpu& vcpu, uint32_t xen_vcpu_id, uint64_t vcpu_info_gpa,
                        uint64_t runstate_gpa);
// Raises 2-level event channel `port` on Xen vCPU `xen_vcpu_id` (KVM_XEN_HVM_EVTCHN_SEND).
// Returns 0 or the errno.
int xen_evtchn_send(const Vm& vm, uint32_t port, uint32_t xen_vcpu_id) noexcept;

}  // namespace gpc::kvm
