#include "env/kvm_probe.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/errors.hpp"
#include "common/unique_fd.hpp"
#include "env/kvm_device.hpp"
#include "env/sysfs.hpp"

// Capabilities newer than Debian 12's kernel headers (values from include/uapi/linux/kvm.h).
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif

namespace gpc {
namespace {

struct Cap {
  const char* name;
  long number;
};

// The capabilities gpcbench's scenarios depend on or that explain their numbers.
constexpr Cap kCaps[] = {
    {"USER_MEMORY", KVM_CAP_USER_MEMORY},
    {"NR_VCPUS", KVM_CAP_NR_VCPUS},
    {"MAX_VCPUS", KVM_CAP_MAX_VCPUS},
    {"MAX_VCPU_ID", KVM_CAP_MAX_VCPU_ID},
    {"NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS},
    {"XEN_HVM", KVM_CAP_XEN_HVM},
    {"ADJUST_CLOCK", KVM_CAP_ADJUST_CLOCK},
    {"KVMCLOCK_CTRL", KVM_CAP_KVMCLOCK_CTRL},
    {"TSC_CONTROL", KVM_CAP_TSC_CONTROL},
    {"HALT_POLL", KVM_CAP_HALT_POLL},
    {"IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT},
    {"BINARY_STATS_FD", KVM_CAP_BINARY_STATS_FD},
    {"DIRTY_LOG_RING", KVM_CAP_DIRTY_LOG_RING},
    {"PMU_CAPABILITY", KVM_CAP_PMU_CAPABILITY},
    {"USER_MEMORY2", KVM_CAP_USER_MEMORY2},
    {"MEMORY_ATTRIBUTES", KVM_CAP_MEMORY_ATTRIBUTES},
    {"GUEST_MEMFD", KVM_CAP_GUEST_MEMFD},
    {"VM_TYPES", KVM_CAP_VM_TYPES},
};



nlohmann::json module_params() {
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json unreadable = nlohmann::json::object();
  std::error_code ec;
  for (const auto& mod : std::filesystem::directory_iterator("/sys/module", ec)) {
    const std::string module = mod.path().filename().string();
    if (module.rfind("kvm", 0) != 0) continue;
    std::error_code ec2;
    for (const auto& p : std::filesystem::directory_iterator(mod.path() / "parameters", ec2)) {
      const std::string key = module + "." + p.path().filename().string();
      TextFile f = read_text_file(p.path().string());
      if (f.text)
        params[key] = *f.text;
      else
        unreadable[key] = f.error;
    }
  }
  return {{"params", params}, {"params_unreadable", unreadable}};
}

}  // namespace

nlohmann::json decode_xen_hvm_flags(long value) {
  static constexpr std::pair<const char*, long> kFlags[] = {
      {"HYPERCALL_MSR", 1 << 0}, {"INTERCEPT_HCALL", 1 << 1}, {"SHARED_INFO", 1 << 2},
      {"RUNSTATE", 1 << 3},      {"EVTCHN_2LEVEL", 1 << 4},   {"EVTCHN_SEND", 1 << 5},
      {"RUNSTATE_UPDATE_FLAG", 1 << 6}, {"PVCLOCK_TSC_UNSTABLE", 1 << 7},
      {"SHARED_INFO_HVA", 1 << 8}};
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, bit] : kFlags) out[name] = value > 0 && (value & bit) != 0;
  return out;
}

nlohmann::json probe_kvm() {
  nlohmann::json kvm = module_params();
  kvm["available"] = false;
  kvm["api_version"] = nullptr;
  kvm["caps"] = nlohmann::json::object();
  kvm["create_vm"] = {{"works", false}, {"reason", "not tried: the KVM device is unusable"}};

  // The same check a run makes (kvm::Kvm): the configured device, proven to be KVM.
  const std::string device = configured_kvm_device();
  kvm["device"] = device;
  KvmDevice dev;
  try {
    dev = open_kvm_device(device);
  } catch (const UnavailableError& e) {
    kvm["reason"] = e.what();
    return kvm;
  }
  const int fd_number = dev.fd.get();
  kvm["api_version"] = dev.api_version;
  for (const auto& cap : kCaps) {
    const int v = ioctl(fd_number, KVM_CHECK_EXTENSION, cap.number);
    kvm["caps"][cap.name] = v < 0 ? 0 : v;
  }
  kvm["xen_hvm_flags"] = decode_xen_hvm_flags(kvm["caps"]["XEN_HVM"].get<long>());

  // A VM is what every layer-K scenario needs; creating (and dropping) one proves it.
  UniqueFd vm(ioctl(fd_number, KVM_CREATE_VM, 0));
  if (vm.get() < 0) {
    kvm["create_vm"] = {{"works", false}, {"reason", "KVM_CREATE_VM failed: " + errno_text(errno)}};
    kvm["reason"] = kvm["create_vm"]["reason"];
    return kvm;
  }
  kvm["create_vm"] = {{"works", true}, {"reason", ""}};
  kvm["available"] = true;
  kvm["reason"] = "";
  return kvm;
}

}  // namespace gpc
