// The host side of the ucall protocol (guests/include/gpc_guest/abi.h): a guest fills its
// ucall buffer and OUTs the buffer's gpa to GPC_UCALL_PORT; the host decodes it here.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kvm/vm.hpp"

namespace gpc::kvm {

enum class UcallKind { Sync, Assert, Done, Report };

struct Ucall {
  UcallKind kind = UcallKind::Sync;
  uint64_t stage = 0;  // SYNC stage; for ASSERT the line
  std::vector<uint64_t> values;
  std::string file;  // ASSERT only
  std::string expr;  // ASSERT only
  std::string describe() const;  // "SYNC stage 1 [3, 4]", "ASSERT pvclock.c:42 ..."
};

// A guest check failed: the message carries the guest's file:line and expression.
class GuestAssertionError : public std::runtime_error {
 public:
  GuestAssertionError(int vcpu, const Ucall& ucall);
  const std::string& file() const { return file_; }
  uint64_t line() const { return line_; }

 private:
  std::string file_;
  uint64_t line_;
};

// A ucall the guest could not have meant (bad gpa, unknown command, oversized values).
class UcallProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// nullopt when this exit is not a ucall; throws UcallProtocolError for a malformed one.
std::optional<Ucall> decode_ucall(const Vm& vm, const kvm_run& run);

// True when the exit is a 32-bit OUT to `port` (the bench port, for instance).
bool is_out_to(const kvm_run& run, uint16_t port);
// The 32-bit value of an OUT exit (call only when is_out_to() said so).
uint32_t out_value(const kvm_run& run);

}  // namespace gpc::kvm
