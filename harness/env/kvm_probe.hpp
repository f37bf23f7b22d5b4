// What the configured KVM device ($GPC_KVM_DEVICE or /dev/kvm, env/kvm_device.hpp) offers, asked of the kernel directly (ioctl KVM_CHECK_EXTENSION),
// plus every KVM module parameter. Never throws: what cannot be asked is recorded with why.
#pragma once

#include <nlohmann/json.hpp>

namespace gpc {

// {available, reason, device, api_version, create_vm{works, reason}, caps{NAME: value},
//  xen_hvm_flags{...}, params{"module.param": value}, params_unreadable{...}}
nlohmann::json probe_kvm();

// The KVM_CAP_XEN_HVM value decoded into its KVM_XEN_HVM_CONFIG_* flags.
nlohmann::json decode_xen_hvm_flags(long value);

}  // namespace gpc
