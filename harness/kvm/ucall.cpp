#include "kvm/ucall.hpp"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gpc_guest/abi.h"

namespace gpc::kvm {

std::string Ucall::describe() const {
  switch (kind) {
    case UcallKind::Sync: return fmt::format("SYNC stage {} [{}]", stage, fmt::join(values, ", "));
    case UcallKind::Report: return fmt::format("REPORT [{}]", fmt::join(values, ", "));
    case UcallKind::Done: return "DONE";
    case UcallKind::Assert:
      return fmt::format("ASSERT {}:{}: {} (values {:#x}, {:#x})", file, stage, expr,
                         values.size() > 0 ? values[0] : 0, values.size() > 1 ? values[1] : 0);
  }
  return "?";
}

GuestAssertionError::GuestAssertionError(int vcpu, const Ucall& ucall)
    : std::runtime_error(fmt::format("guest assertion failed on vCPU {} at {}:{}: {} (values "
                                     "{:#x}, {:#x})",
                                     vcpu, ucall.file, ucall.stage, ucall.expr,
                                     ucall.values.size() > 0 ? ucall.values[0] : 0,
                                     ucall.values.size() > 1 ? ucall.values[1] : 0)),
      file_(ucall.file),
      line_(ucall.stage) {}

bool is_out_to(const kvm_run& run, uint16_t port) {
  return run.exit_reason == KVM_EXIT_IO && run.io.direction == KVM_EXIT_IO_OUT &&
         run.io.port == port && run.io.size == 4 && run.io.count == 1;
}

uint32_t out_value(const kvm_run& run) {
  uint32_t v;
  std::memcpy(&v, reinterpret_cast<const char*>(&run) + run.io.data_offset, sizeof v);
  return v;
}

namespace {

// A NUL-terminated guest string, bounded, never reading outside the memslot.
std::string guest_string(const Vm& vm, uint64_t gpa) {
  if (gpa == 0) return "?";
  std::string s;
  for (size_t i = 0; i < 256; ++i) {
    const char c = *static_cast<const char*>(vm.gpa_to_hva(gpa + i, 1));
    if (c == '\0') break;
    s.push_back(c);
  }
  return s;
}

}  // namespace

std::optional<Ucall> decode_ucall(const Vm& vm, const kvm_run& run) {
  if (!is_out_to(run, GPC_UCALL_PORT)) return std::nullopt;
  const uint32_t gpa = out_value(run);
  gpc_ucall raw;
  try {
    std::memcpy(&raw, vm.gpa_to_hva(gpa, sizeof raw), sizeof raw);
  } catch (const std::out_of_range&) {
    throw UcallProtocolError(fmt::format("ucall buffer at gpa {:#x} is outside guest memory", gpa));
  }
  if (raw.nvalues > GPC_UCALL_MAX_VALUES)
    throw UcallProtocolError(fmt::format("ucall with {} values (max {})", raw.nvalues,
                                         GPC_UCALL_MAX_VALUES));
  Ucall u;
  u.stage = raw.stage;
  u.values.assign(raw.values, raw.values + raw.nvalues);
  switch (raw.cmd) {
    case GPC_UCALL_SYNC: u.kind = UcallKind::Sync; break;
    case GPC_UCALL_DONE: u.kind = UcallKind::Done; break;
    case GPC_UCALL_REPORT: u.kind = UcallKind::Report; break;
    case GPC_UCALL_ASSERT:
      u.kind = UcallKind::Assert;
      try {
        u.file = guest_string(vm, raw.file_gpa);
        u.expr = guest_string(vm, raw.expr_gpa);
      } catch (const std::out_of_range&) {
        u.file = "<file outside guest memory>";
      }
      break;
    default:
      throw UcallProtocolError(fmt::format("unknown ucall command {}", raw.cmd));
  }
  return u;
}

}  // namespace gpc::kvm
