/*
 * The contract between gpcbench's freestanding guests and the host harness:
 * guest-physical memory layout, the per-vCPU boot block, and the ucall protocol.
 * Plain C (C99 and C++), included by both sides so the two can never disagree.
 *
 * Guests run in 64-bit long mode with an identity map (virtual == physical), so
 * every "gpa" below is also a valid guest pointer.
 */
#ifndef GPC_GUEST_ABI_H
#define GPC_GUEST_ABI_H

#include <stdint.h>

/* ---- guest-physical layout (memslot 0 covers [0, GPC_GUEST_LOW_SIZE)) ---- */
#define GPC_GUEST_PML4_GPA 0x1000ull  /* PML4, PDPT, PD: 1 GB identity map, 2 MB pages */
#define GPC_GUEST_GDT_GPA 0x5000ull
/* One word host invalidator threads update around every step (InvalidatorConfig::
 * step_marker): low 16 bits = steps in progress, any change = a step began or ended. It is
 * in low memory, which no invalidator touches. */
#define GPC_GUEST_MARKER_GPA 0x6000ull
#define GPC_MARKER_BUSY_MASK 0xffffull
#define GPC_GUEST_BOOT_GPA 0x10000ull /* one boot block page per vCPU */
#define GPC_GUEST_BOOT_STRIDE 0x1000ull
#define GPC_GUEST_MAX_VCPUS 16u
/* Per-vCPU latency histograms of the pvclock guest, in low memory so that no invalidator
 * range over the data slot can copy or zero them while the guest counts. */
#define GPC_GUEST_HIST_GPA 0x20000ull
#define GPC_GUEST_HIST_STRIDE 0x4000ull
#define GPC_GUEST_CODE_GPA 0x100000ull /* every guest links here (guests/guest.ld) */
#define GPC_GUEST_CODE_MAX 0x60000ull
#define GPC_GUEST_STACK_TOP 0x200000ull /* vCPU i's stack ends at TOP - i * STRIDE */
#define GPC_GUEST_STACK_STRIDE 0x4000ull
#define GPC_GUEST_LOW_SIZE 0x200000ull
/* Memslot 1 (scenario data: pvclock pages, histograms, event pages) starts here, so host
 * invalidators can act on it without touching code, stacks or page tables. */
#define GPC_GUEST_DATA_GPA 0x200000ull
#define GPC_GUEST_DATA_SIZE 0x200000ull
#define GPC_GUEST_DATA_STRIDE 0x10000ull /* per-vCPU area inside the data slot */
#define GPC_GUEST_IDENTITY_BYTES 0x40000000ull

/* ---- ucall: the guest fills boot->ucall, then OUTs its gpa (32 bits) to this port ---- */
#define GPC_UCALL_PORT 0x7f0u
#define GPC_BENCH_PORT 0x7f4u /* bare OUT exits (pingpong); the host only counts them */
/* OUT of N to this port: "nothing to do, give the CPU away for N microseconds" (what a
 * halt with a timer would do; the guests run without interrupts). The host sleeps, counts
 * the exit as progress for its watchdog, and resumes the guest. */
#define GPC_IDLE_PORT 0x7f8u
#define GPC_UCALL_MAX_VALUES 12u

enum gpc_ucall_cmd {
  GPC_UCALL_SYNC = 1,   /* stage + values: progress, host may inspect guest memory */
  GPC_UCALL_ASSERT = 2, /* file, line, expression, values: a guest check failed */
  GPC_UCALL_DONE = 3,   /* the guest finished; it halts afterwards */
  GPC_UCALL_REPORT = 4, /* final counters (values), followed by DONE */
};

struct gpc_ucall {
  uint64_t cmd;
  uint64_t stage;    /* SYNC: stage; ASSERT: line */
  uint64_t file_gpa; /* ASSERT: NUL-terminated file name */
  uint64_t expr_gpa; /* ASSERT: NUL-terminated expression text */
  uint64_t nvalues;
  uint64_t values[GPC_UCALL_MAX_VALUES];
};

#define GPC_BOOT_MAGIC 0x67706362u /* "gpcb" */

/* Written by the host before the first KVM_RUN; `stop` is the only field the host
 * changes while the guest runs. */
struct gpc_guest_boot {
  uint32_t magic;
  uint32_t vcpu_index;
  uint32_t nr_vcpus;
  uint32_t mode;             /* guest specific (e.g. the selftest's sub-test) */
  uint64_t duration_ns;      /* guest-side deadline, measured on the pvclock */
  uint64_t sync_interval_ns; /* how often to SYNC progress */
  uint64_t pvclock_gpa;      /* struct gpc_pvclock_time_info */
  uint64_t hist_gpa;         /* uint64_t[GPC_LL_BUCKETS], loglinear.h layout */
  uint64_t event_gpa;        /* reader guest: first struct gpc_event_page */
  uint64_t event_pages;      /* reader guest: pages at event_gpa, 4 KB apart (0 = 1) */
  uint64_t record_offset;    /* reader guest: gpc_versioned_record in each page; 0 = none */
  uint64_t idle_us;          /* reader guest: after an empty sweep, idle-exit for this long; 0 = spin */
  uint64_t shared_gpa;       /* memory shared by all vCPUs (selftest rendezvous) */
  uint64_t iterations;       /* guest specific bound (pingpong, selftest) */
  uint64_t xen_shinfo_gpa;    /* xen guest: shared_info page */
  uint64_t xen_vcpu_info_gpa; /* xen guest: this vCPU's vcpu_info */
  uint64_t xen_runstate_gpa;  /* xen guest: this vCPU's runstate area */
  uint64_t inval_marker_gpa;  /* pvclock, xen guests: GPC_GUEST_MARKER_GPA when host invalidators
                              * announce their steps, else 0 */
  volatile uint64_t stop;    /* host -> guest: finish now (report, then DONE) */
  struct gpc_ucall ucall;    /* this vCPU's ucall buffer */
  /* pvclock guest -> host: the page as the guest last read it consistently (raw copy) */
  uint64_t view[4];
  uint64_t xen_port; /* xen guest: the one event-channel port the host sends to this vCPU */
};

/* The kernel's struct pvclock_vcpu_time_info (Documentation/virt/kvm/x86/msr.rst). */
struct gpc_pvclock_time_info {
  uint32_t version;
  uint32_t pad0;
  uint64_t tsc_timestamp;
  uint64_t system_time;
  uint32_t tsc_to_system_mul;
  int8_t tsc_shift;
  uint8_t flags;
  uint8_t pad[2];
};
#define GPC_PVCLOCK_TSC_STABLE_BIT 0x1u
#define GPC_MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

/* Counters of the pvclock guest, in SYNC and REPORT values (this order). */
enum gpc_pvclock_counter {
  GPC_PVC_UPDATES = 0,   /* MSR writes (updates) measured */
  GPC_PVC_ODD,           /* violation: odd version seen (the page changed under the vCPU) */
  GPC_PVC_BACKWARDS,     /* violation: pvclock time went backwards with TSC_STABLE set */
  GPC_PVC_RETRIES,       /* version changed between the two reads: retried */
  GPC_PVC_STALE,         /* violation: version did not advance after an MSR write */
  GPC_PVC_LAST_NS,       /* last pvclock time read */
  GPC_PVC_UNSTABLE_BACK, /* backward steps without TSC_STABLE (allowed by the ABI) */
  GPC_PVC_MAX_NS,        /* largest update latency, ns */
  GPC_PVC_DISTURBED,     /* anomalous reads (odd, stale, zeroed, backwards) while a host
                          * invalidator step overlapped: the host's own doing, not violations */
  GPC_PVC_ZEROED,        /* of those, reads of a zeroed page (a content-losing invalidator) */
  GPC_PVC_COUNT
};
/* Modes of the pvclock guest (boot->mode) and its SYNC stages. */
enum gpc_pvclock_mode {
  GPC_PVC_MODE_RUN = 0,             /* the benchmark loop */
  GPC_PVC_MODE_PAUSE_AFTER_READ = 1 /* tests: also SYNC after each page read, before the marker
                                     * read that closes its window, so the host can run an
                                     * invalidator step exactly there */
};
#define GPC_PVC_STAGE_PROGRESS 1u   /* counters, every sync_interval_ns */
#define GPC_PVC_STAGE_AFTER_READ 2u /* GPC_PVC_MODE_PAUSE_AFTER_READ only: counters so far */

/* Counters of the pingpong guest. */
enum gpc_pingpong_counter { GPC_PP_EXITS = 0, GPC_PP_COUNT };

/* Counters of the xen guest. */
enum gpc_xen_counter {
  GPC_XEN_EVENTS = 0,   /* xen_port's pending bit found set and cleared in shared_info */
  GPC_XEN_UPCALLS,      /* times vcpu_info->evtchn_upcall_pending was found set */
  GPC_XEN_RUNSTATE_BAD, /* violation: own runstate not RUNSTATE_running while running */
  GPC_XEN_AT_RISK,      /* of EVENTS, consumed while a host step that copies or discards the
                         * shared_info page was in progress, began or ended (inval_marker_gpa) */
  GPC_XEN_COUNT
};
/* Xen ABI offsets (xen/include/public/xen.h, x86_64) the xen guest reads. */
#define GPC_XEN_SHINFO_EVTCHN_PENDING 2048u /* after vcpu_info[32] of 64 bytes */
#define GPC_XEN_SHINFO_EVTCHN_MASK 2560u
#define GPC_XEN_RUNSTATE_UPDATE (1ull << 63) /* in state_entry_time while KVM writes */

/* Modes of the selftest guest (host-side tests of the VMM itself). */
enum gpc_selftest_mode {
  GPC_SELFTEST_LONG_MODE = 1, /* SYNC(1, cr0, cr4, efer, cs) then DONE */
  GPC_SELFTEST_ECHO = 2,      /* SYNC(2, i, i * 3) for i < iterations, then DONE */
  GPC_SELFTEST_ASSERT = 3,    /* a failing GUEST_ASSERT */
  GPC_SELFTEST_HANG = 4,      /* SYNC(1) then spin forever without ucalls */
  GPC_SELFTEST_RENDEZVOUS = 5 /* all vCPUs meet in shared memory, SYNC(3, spins), DONE */
};

#endif
