/*
 * xen guest (layer K, only where KVM_CAP_XEN_HVM): polls its vcpu_info for event-channel
 * upcalls that the host raises with KVM_XEN_HVM_EVTCHN_SEND, consumes the pending bits
 * of shared_info (2-level ABI), and checks its runstate area, all of which KVM writes
 * through gfn_to_pfn_caches. No interrupts: the guest polls, so no IDT is needed.
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

void guest_main(struct gpc_guest_boot* boot) {
  struct xen_vcpu_info* vi = (struct xen_vcpu_info*)(uintptr_t)boot->xen_vcpu_info_gpa;
  const struct xen_runstate* rs = (const struct xen_runstate*)(uintptr_t)boot->xen_runstate_gpa;
  volatile uint64_t* pending =
      (volatile uint64_t*)(uintptr_t)(boot->xen_shinfo_gpa + GPC_XEN_SHINFO_EVTCHN_PENDING);
  const volatile uint64_t* mask =
      (const volatile uint64_t*)(uintptr_t)(boot->xen_shinfo_gpa + GPC_XEN_SHINFO_EVTCHN_MASK);
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
    if (!vi->evtchn_upcall_pending) {
      gpc_pause();
      continue;
    }
    ++c[GPC_XEN_UPCALLS];
    vi->evtchn_upcall_pending = 0;
    uint64_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_ACQ_REL);
    while (sel) {
      const uint32_t w = (uint32_t)__builtin_ctzll(sel);
      sel &= sel - 1;
      uint64_t bits = __atomic_exchange_n(&pending[w], 0, __ATOMIC_ACQ_REL) & ~mask[w];
      while (bits) {
        bits &= bits - 1;
        ++c[GPC_XEN_EVENTS];
      }
    }
  }
  gpc_ucall(boot, GPC_UCALL_REPORT, 0, GPC_XEN_COUNT, c);
  gpc_done(boot);
}
