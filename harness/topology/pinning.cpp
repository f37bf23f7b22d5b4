// sched_setaffinity-based pinning; the foundation issue moves it onto hwloc.
#include "topology/pinning.hpp"

#include <sched.h>
#include <unistd.h>

#include <string>

#include "common/errors.hpp"

namespace gpc {

int pin_current_thread(int os_pu) {
  const long online = sysconf(_SC_NPROCESSORS_CONF);
  if (os_pu < 0 || os_pu >= online)
    throw UsageError("PU " + std::to_string(os_pu) + " does not exist: this machine has PUs 0-" +
                     std::to_string(online - 1));
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(os_pu, &set);
  check_syscall(sched_setaffinity(0, sizeof set, &set), "sched_setaffinity");
  sched_yield();  // the migration happens at the next scheduling point
  return current_pu();
}

int current_pu() { return sched_getcpu(); }

}  // namespace gpc
