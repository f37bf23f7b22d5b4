/*
 * xen guest (layer K, only where KVM_CAP_XEN_HVM): the receiving end of `run xen-evtchn`.
 * The host raises port boot->xen_port with KVM_XEN_HVM_EVTCHN_SEND, which KVM sets in
 * shared_info through its gfn_to_pfn_cache (and flags in vcpu_info through another one);
 * it sends again only after it has read the bit clear, so every bit this guest clears is one
 * event. The guest polls (no interrupts, no IDT): it clears its port's pending bit in
 * shared_info directly, so a delivery does not depend on the vcpu_info flags, counts
 * vcpu_info upcalls apart, and checks its runstate area.
 *
 * With boot->inval_marker_gpa set, host invalidator steps that copy or discard the
 * shared_info page announce themselves there; a consume in a window such a step touched may
 * be undone by the host's copy (the bit comes back), so it is counted "at risk".
 */
#include "gpc_guest/abi.h"
#include "guest.h"

#define POLLS_PER_SYNC 256u

struct xen_vcpu_info {
  volatile uint8_t evtchn_upcall_pending;
  volatile uint8_t evtchn_upcall_mask;
  uint8_t pad[6];
  volatile uint64_t evtchn_pending_sel;
};

struct xen_runstate {
  volatile int32_t state; /* 0 = RUNSTATE_running */
  uint32_t pad;
  volatile uint64_t state_entry_time;
};

static uint64_t read_marker(const volatile uint64_t* marker) {
  gpc_barrier();
  const uint64_t m = marker ? *marker : 0;
  gpc_barrier();
  return m;
}

/* Clears the port's pending bit if set (a locked RMW, so KVM's concurrent test_and_set of
 * another send is never lost) and counts the event. */
static void consume(volatile uint64_t* word, uint64_t bit, const volatile uint64_t* marker, uint64_t* c) {
  if (!(*word & bit)) return;
  const uint64_t before = read_marker(marker);
  const uint64_t old = __atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST);
  const uint64_t after = read_marker(marker);
  if (!(old & bit)) return;
  ++c[GPC_XEN_EVENTS];
  if ((before & GPC_MARKER_BUSY_MASK) != 0 || before != after) ++c[GPC_XEN_AT_RISK];
}

void guest_main(struct gpc_guest_boot* boot) {
  struct xen_vcpu_info* vi = (struct xen_vcpu_info*)(uintptr_t)boot->xen_vcpu_info_gpa;
  const struct xen_runstate* rs = (const struct xen_runstate*)(uintptr_t)boot->xen_runstate_gpa;
  volatile uint64_t* pending =
      (volatile uint64_t*)(uintptr_t)(boot->xen_shinfo_gpa + GPC_XEN_SHINFO_EVTCHN_PENDING);
  volatile uint64_t* word = pending + boot->xen_port / 64;
  const uint64_t bit = 1ull << (boot->xen_port % 64);
  const volatile uint64_t* marker = (const volatile uint64_t*)(uintptr_t)boot->inval_marker_gpa;
  uint64_t c[GPC_XEN_COUNT] = {0};
  uint32_t polls = 0;

  vi->evtchn_upcall_mask = 1; /* polling: KVM must not try to inject an upcall vector */
  while (!boot->stop) {
    if (++polls == POLLS_PER_SYNC) {
      polls = 0;
      gpc_sync(boot, 1, GPC_XEN_COUNT, c);
    }
    const uint64_t entry = rs->state_entry_time;
    if (!(entry & GPC_XEN_RUNSTATE_UPDATE) && rs->state != 0) ++c[GPC_XEN_RUNSTATE_BAD];
    if (vi->evtchn_upcall_pending) {
      ++c[GPC_XEN_UPCALLS];
      vi->evtchn_upcall_pending = 0;
      (void)__atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_ACQ_REL);
    }
    consume(word, bit, marker, c);
    gpc_pause();
  }
  /* The host set stop after its last send had returned (the bit was set by then) and after
   * its invalidators stopped: this sweep takes the last event. */
  consume(word, bit, marker, c);
  gpc_ucall(boot, GPC_UCALL_REPORT, 0, GPC_XEN_COUNT, c);
  gpc_done(boot);
}
