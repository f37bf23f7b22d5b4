// Thread pinning by OS processor number (the numbers `taskset` and sched_getcpu() use).
#pragma once

namespace gpc {

// Binds the calling thread to one PU and verifies it runs there; returns the PU observed.
// Throws SystemError if the binding fails, UsageError if the PU does not exist.
int pin_current_thread(int os_pu);

// The PU the calling thread is running on now.
int current_pu();

}  // namespace gpc
