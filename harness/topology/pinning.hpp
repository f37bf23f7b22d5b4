// Thread pinning by OS processor number (the numbers `taskset` and sched_getcpu() use).
#pragma once

namespace gpc {

// Binds the calling thread to one PU (hwloc_set_cpubind, thread scope) and verifies that
// it then runs there; returns the PU observed. Throws UsageError if the PU does not exist,
// SystemError if the binding fails (e.g. the PU is outside this process's cgroup) and
// UnavailableError if the thread is still seen elsewhere after binding.
int pin_current_thread(int os_pu);

// The PU the calling thread is running on now (cheap: one vDSO/rseq read).
int current_pu();

}  // namespace gpc
