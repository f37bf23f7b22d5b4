// The KVM device gpcbench opens, and the one check that proves it is KVM. `gpcbench info`
// (env/kvm_probe.cpp) and every run (kvm::Kvm) use it, so what info reports about KVM is
// what a run finds (issue 15 item 18 and "the first hour").
#pragma once

#include <string>

#include "common/unique_fd.hpp"

namespace gpc {

// The environment variable that points gpcbench at another device (tests point it at a
// missing path to exercise the no-KVM path).
inline constexpr const char* kKvmDeviceVariable = "GPC_KVM_DEVICE";

// $GPC_KVM_DEVICE when set and not empty, else /dev/kvm.
std::string configured_kvm_device();

struct KvmDevice {
  UniqueFd fd;
  int api_version = 0;
};

// Opens `device` read-write and proves it is KVM: a character device that answers
// KVM_GET_API_VERSION with KVM_API_VERSION (12). Nothing is ever written to it, and a
// path that is not a character device is never opened. Throws UnavailableError with the
// reason and the fix; when $GPC_KVM_DEVICE chose the device, the message names it.
KvmDevice open_kvm_device(const std::string& device);

}  // namespace gpc
