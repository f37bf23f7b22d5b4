// A user of two pfn caches at once: KVM's Xen runstate update
// (kvm_xen_update_runstate_guest, arch/x86/kvm/xen.c) writes a runstate area that may
// straddle two guest pages, so it holds gpc1's and gpc2's read locks together, always in
// that order (gpc1 > gpc2; lockdep told so by 23e60258aeaf "KVM: x86/xen: Fix lockdep
// warning on \"recursive\" gpc locking", Jan 2023). Called from the sched-out preempt
// notifier ("atomic") it runs under the runqueue lock, so it must never wait for a
// gpc->lock: since bbe17c625d68 ("KVM: x86/xen: Fix potential deadlock in
// kvm_xen_update_runstate_guest()", Jan 2023) both locks are read_trylock()ed there and the
// opportunistic update is skipped on contention. Bug::kRunstateBlockingLock puts back the
// blocking read_lock() of the second cache, which deadlocks as
// gpc->lock -> p->pi_lock -> rq->__lock in lockdep's report.
#pragma once

#include <cstdint>

#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"

namespace gpc::pfncache {

enum class RunstateResult {
  kUpdated,  // both caches were valid: the area was written through both khvas
  kSkipped,  // atomic path: a lock was contended or a cache invalid (the kernel returns too)
  kInvalid,  // non-atomic path: a cache was invalid; the caller refreshes and retries
  kStopped,  // stop_requested() ended a lock wait
};

struct RunstateUser {
  Gpc& gpc1;
  Gpc& gpc2;
  ContractChecker& checker;
  bool blocking_in_atomic = false;  // Bug::kRunstateBlockingLock
  // One update of both halves, each write a use of its cache's khva.
  RunstateResult update(bool atomic, uint64_t value);
};

}  // namespace gpc::pfncache
