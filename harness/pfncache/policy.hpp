// The strategy axes of the embedded pfn cache (BRIEF §1) and the deliberately broken
// variants of BRIEF §7, chosen once when a NotifierState is built. Every Gpc copies the
// few fields it needs into const members, so check() never looks at a policy.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace gpc::pfncache {

// Where a cache is invalidated: in invalidate_range_start (upstream) or in
// invalidate_range_end with a needs_invalidation flag (Woodhouse v3, Aug 2024).
enum class Hook { kStart, kEnd };

// How a refresh waits for invalidations in progress.
enum class WaitKind {
  kBusy,      // upstream: resolve, find the count raised, retry with cond_resched()
  kSpin,      // spin on the count with pause until it is zero (review alternative)
  kHaltPoll,  // poll for an adaptive window, then block (KVM halt polling)
  kBlock,     // sleep until range_end drops the count to zero (v3 gpc_wait_for_invalidations)
};

// Which invalidations force a retry: every one (upstream) or only those covering the
// cache's hva (range tracking, as mmu_invalidate_retry_gfn does for page faults).
enum class Filter { kGlobal, kRange };

// How readers validate: under gpc->lock (upstream) or locklessly (SRCU-style read
// section; writers wait for readers before they unmap).
enum class ReaderCheck { kRwlock, kLockless };

// One deliberately reintroduced historical bug (BRIEF §7). kNone is the faithful model.
// The livelock under unrelated invalidations is not a bug here: it is Filter::kGlobal.
enum class Bug {
  kNone,
  kCountAfterInvalidate,   // count raised after caches are invalidated: refresh can install a pfn being freed
  kSpeculativeValid,       // refresh marks the cache valid before khva is mapped (valid with NULL khva)
  kNoRefreshMutex,         // concurrent refreshes are not serialized (stale gpa/generation wins)
  kConsumeInactive,        // check() and refresh() ignore `active` (inactive cache consumed)
  kReinitLock,             // activate() re-initialises gpc->lock while it may be held
  kDeactivateInRefresh,    // deactivate does not serialize with refresh, refresh does not re-check active
  kInnerContinue,          // v3 2/5 review: `continue` in the inner wait loop re-takes the held lock
  kEndErrorPfn,            // hook=end with v3 1/5's predicate as posted: a refresh from an error pfn misses invalidations
  kRefreshBeforeActive,    // refresh tests the length before active: WARN on a cache with no address (syzbot cde12433)
  kRunstateBlockingLock,   // Xen runstate update from sched-out read_lock()s two caches instead of read_trylock()
};

// KVM halt polling parameters (virt/kvm/kvm_main.c module parameters). Defaults follow
// the kernel's since 6.11; halt_poll_from_kernel() reads the running kernel's values.
struct HaltPollParams {
  // halt_poll_ns_grow_start: 10 us. On this machine a futex wake->run costs 37 us across
  // CPUs and 1 us on the same CPU (MACHINE-NOTES), so a 10 us poll is below one blocking
  // round trip: polling first only pays when the invalidation is shorter than a sleep.
  uint32_t start_ns = 10'000;
  uint32_t grow = 2;  // halt_poll_ns_grow: double on a short wait the poll missed
  // halt_poll_ns_shrink: 2 since aeb1b22a3ac8 ("KVM: Enable halt polling shrink parameter
  // by default", kvm-x86 for 6.11, 2024); 0 (the old default) resets the window to 0.
  uint32_t shrink = 2;
  // halt_poll_ns, x86 KVM_HALT_POLL_NS_DEFAULT 200 us. An mremap page swap takes 2.5 us
  // and a 2 MB MADV_COLLAPSE 185 us here (MACHINE-NOTES): 200 us covers all but the
  // slowest invalidator.
  uint32_t max_ns = 200'000;
};

// The running kernel's kvm.halt_poll_ns* module parameters where they can be read (kvm
// loaded; readable even without /dev/kvm), else the defaults above. `source` says which,
// per parameter, for the run context.
struct KernelHaltPoll {
  HaltPollParams params;
  std::string source;  // "/sys/module/kvm/parameters" or why the defaults were used
};
KernelHaltPoll halt_poll_from_kernel(const std::string& dir = "/sys/module/kvm/parameters");

struct Policy {
  Hook hook = Hook::kStart;
  WaitKind wait = WaitKind::kBusy;
  Filter filter = Filter::kGlobal;
  ReaderCheck check = ReaderCheck::kRwlock;
  Bug bug = Bug::kNone;
  HaltPollParams halt_poll;
  // Upper bound of one refresh (and of every wait inside it). A refresh that hits it fails
  // with kTimedOut instead of hanging: the livelock becomes a measured outcome. 2 s is four
  // orders of magnitude above the slowest invalidator measured here (185 µs collapse).
  std::chrono::nanoseconds refresh_bound = std::chrono::seconds(2);
  // How long a blocked waiter sleeps before it re-checks stop_requested() and its bound
  // even without a wakeup. 20 ms keeps Ctrl-C responsive at ~50 extra wakeups per second.
  std::chrono::nanoseconds block_slice = std::chrono::milliseconds(20);
};

std::string_view to_string(Hook);
std::string_view to_string(WaitKind);
std::string_view to_string(Filter);
std::string_view to_string(ReaderCheck);
std::string_view to_string(Bug);

// Parsers for the CLI names (`--hook end`, `--strategy haltpoll`, ...). Throw
// gpc::UsageError naming the accepted values.
Hook parse_hook(std::string_view);
WaitKind parse_wait(std::string_view);
Filter parse_filter(std::string_view);
ReaderCheck parse_check(std::string_view);
Bug parse_bug(std::string_view);

// True when the combination breaks the notifier contract by design (BRIEF §6): a hook=end
// cache stays valid between range_start returning and range_end.
inline bool unsafe_by_design(const Policy& p) { return p.hook == Hook::kEnd; }

// "hook:end/strategy:block/..." for logs and test names.
std::string describe(const Policy&);
// "halt_poll_ns=200000 grow=2 grow_start=10000 shrink=2".
std::string describe(const HaltPollParams&);

}  // namespace gpc::pfncache
