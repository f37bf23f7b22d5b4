#include "common/errors.hpp"

#include <cerrno>
#include <cstring>

namespace gpc {

SystemError::SystemError(const std::string& what_call, int err)
    : std::runtime_error(what_call + ": " + std::strerror(err)), err_(err) {}

long check_syscall(long rc, const char* what_call) {
  if (rc < 0) throw SystemError(what_call, errno);
  return rc;
}

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return std::string(std::strerror(err)) + " (" + (name ? name : std::to_string(err)) + ")";
}

}  // namespace gpc
