#include "env/kvm_device.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "common/errors.hpp"
#include "results/output_file.hpp"  // file_kind_text

namespace gpc {
namespace {

bool chosen_by_variable(const std::string& device) {
  const char* env = std::getenv(kKvmDeviceVariable);
  return env && *env && device == env;
}

// "GPC_KVM_DEVICE=/dev/null" when the variable chose the device, else the path.
std::string device_name(const std::string& device) {
  return chosen_by_variable(device) ? std::string(kKvmDeviceVariable) + "=" + device : device;
}

// The fix for a device that exists but is not KVM.
std::string not_kvm_fix(const std::string& device) {
  return chosen_by_variable(device)
             ? fmt::format("unset {} to use /dev/kvm, or point it at the KVM device", kKvmDeviceVariable)
             : "the KVM device is the misc character device 10:232 the kvm module creates";
}

std::string open_failure_reason(const std::string& device, int err) {
  const std::string name = device_name(device);
  const std::string unset =
      chosen_by_variable(device) ? fmt::format("; or unset {} to use /dev/kvm", kKvmDeviceVariable) : "";
  switch (err) {
    case ENOENT:
      return name + " does not exist: load the KVM module (modprobe kvm_intel or kvm_amd) "
                    "and enable virtualization in the firmware, or run on a machine with KVM" + unset;
    case EACCES:
    case EPERM:
      return "no permission to open " + name +
             ": add yourself to the 'kvm' group (then log in again) or run as root" + unset;
    default:
      return "cannot open " + name + ": " + errno_text(err) + unset;
  }
}

}  // namespace

std::string configured_kvm_device() {
  const char* env = std::getenv(kKvmDeviceVariable);
  return env && *env ? env : "/dev/kvm";
}

KvmDevice open_kvm_device(const std::string& device) {
  // stat first: a FIFO would block open(), and only a character device can be KVM.
  struct stat st {};
  if (::stat(device.c_str(), &st) != 0) throw UnavailableError(open_failure_reason(device, errno));
  if (!S_ISCHR(st.st_mode))
    throw UnavailableError(fmt::format("{} is {}, not the KVM character device; {}", device_name(device),
                                       file_kind_text(st.st_mode), not_kvm_fix(device)));
  KvmDevice out;
  out.fd = UniqueFd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
  if (!out.fd.valid()) throw UnavailableError(open_failure_reason(device, errno));
  // KVM answers KVM_GET_API_VERSION on its system fd (virt/kvm/kvm_main.c,
  // kvm_dev_ioctl); /dev/null, /dev/zero, a tty answer ENOTTY.
  const int api = ::ioctl(out.fd.get(), KVM_GET_API_VERSION, 0);
  if (api < 0)
    throw UnavailableError(fmt::format("{} (character device {}:{}) is not KVM: KVM_GET_API_VERSION "
                                       "failed with {}; {}",
                                       device_name(device), major(st.st_rdev), minor(st.st_rdev),
                                       errno_text(errno), not_kvm_fix(device)));
  if (api != KVM_API_VERSION)
    throw UnavailableError(fmt::format("{} speaks KVM API {}, gpcbench needs {}", device_name(device), api,
                                       KVM_API_VERSION));
  out.api_version = api;
  return out;
}

}  // namespace gpc
