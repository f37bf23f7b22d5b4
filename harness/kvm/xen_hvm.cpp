#include "kvm/xen_hvm.hpp"

#include <fmt/format.h>

#include "kvm/kvm_ioctl.hpp"

namespace gpc::kvm {
namespace {

constexpr uint32_t kXenHypercallMsr = 0x40000000;  // where Xen guests find the hypercall page
constexpr int kNeeded = KVM_XEN_HVM_CONFIG_SHARED_INFO | KVM_XEN_HVM_CONFIG_RUNSTATE |
                        KVM_XEN_HVM_CONFIG_EVTCHN_SEND;

}  // namespace

XenSupport xen_support(const Kvm& kvm) {
  XenSupport s;
  s.flags = kvm.check_extension(KVM_CAP_XEN_HVM);
  s.usable = (s.flags & kNeeded) == kNeeded;
  if (s.flags == 0)
    s.reason = "KVM_CAP_XEN_HVM is 0: this kernel has no Xen HVM emulation (build it with "
               "CONFIG_KVM_XEN=y; nested or non-x86 KVM often lacks it)";
  else if (!s.usable)
    s.reason = fmt::format("KVM_CAP_XEN_HVM is {:#x}: shared_info, runstate and EVTCHN_SEND "
                           "({:#x}) are all needed; use Linux 6.0 or later",
                           s.flags, kNeeded);
  return s;
}

void configure_xen_vm(const Vm& vm, uint64_t shared_info_gpa) {
  kvm_xen_hvm_config config{};
  config.flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL;
  config.msr = kXenHypercallMsr;
  vm.ioctl(KVM_XEN_HVM_CONFIG, &config, "KVM_XEN_HVM_CONFIG");

  kvm_xen_hvm_attr mode{};
  mode.type = KVM_XEN_ATTR_TYPE_LONG_MODE;
  mode.u.long_mode = 1;
  vm.ioctl(KVM_XEN_HVM_SET_ATTR, &mode, "KVM_XEN_HVM_SET_ATTR(LONG_MODE)");

  kvm_xen_hvm_attr shinfo{};
  shinfo.type = KVM_XEN_ATTR_TYPE_SHARED_INFO;
  shinfo.u.shared_info.gfn = shared_info_gpa >> 12;
  vm.ioctl(KVM_XEN_HVM_SET_ATTR, &shinfo, "KVM_XEN_HVM_SET_ATTR(SHARED_INFO)");
}

void configure_xen_vcpu(const Vcpu& vcpu, uint32_t xen_vcpu_id, uint64_t vcpu_info_gpa,
                        uint64_t runstate_gpa) {
  kvm_xen_vcpu_attr id{};
  id.type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID;
  id.u.vcpu_id = xen_vcpu_id;
  vcpu.ioctl(KVM_XEN_VCPU_SET_ATTR, &id, "KVM_XEN_VCPU_SET_ATTR(VCPU_ID)");

  kvm_xen_vcpu_attr info{};
  info.type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO;
  info.u.gpa = vcpu_info_gpa;
  vcpu.ioctl(KVM_XEN_VCPU_SET_ATTR, &info, "KVM_XEN_VCPU_SET_ATTR(VCPU_INFO)");

  kvm_xen_vcpu_attr runstate{};
  runstate.type = KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR;
  runstate.u.gpa = runstate_gpa;
  vcpu.ioctl(KVM_XEN_VCPU_SET_ATTR, &runstate, "KVM_XEN_VCPU_SET_ATTR(RUNSTATE_ADDR)");
}

int xen_evtchn_send(const Vm& vm, uint32_t port, uint32_t xen_vcpu_id) noexcept {
  kvm_irq_routing_xen_evtchn e{};
  e.port = port;
  e.vcpu = xen_vcpu_id;
  e.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
  return vm.try_ioctl(KVM_XEN_HVM_EVTCHN_SEND, &e);
}

}  // namespace gpc::kvm
