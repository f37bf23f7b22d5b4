// For tests that need two threads to compete for one PU (a co-runner beside a waiter):
// pins the calling thread to the first PU this process may run on.
#pragma once

#include <sched.h>

namespace gpc::pfncache {

inline bool pin_to_first_allowed_pu() {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return false;
  int pu = 0;
  while (pu < CPU_SETSIZE && !CPU_ISSET(pu, &allowed)) ++pu;
  if (pu == CPU_SETSIZE) return false;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(pu, &one);
  return sched_setaffinity(0, sizeof one, &one) == 0;
}

}  // namespace gpc::pfncache
