/*
 * pvclock guest (layer K): every iteration rewrites MSR_KVM_SYSTEM_TIME_NEW, which makes
 * KVM rewrite this vCPU's pvclock page through its gfn_to_pfn_cache before the vCPU
 * resumes, then reads the page back with the version protocol and checks it.
 *
 * With host invalidators (boot->inval_marker_gpa != 0) a check compares this read with
 * the base read (the one the last version came from), so it is judged over the window
 * from the marker read just *before* the base read's page accesses to the marker read
 * just after this read's: if an invalidator step was in progress or began/ended in that
 * window, an anomaly may be the host's own doing (a staging copy taken before KVM's write,
 * a zeroed anonymous page) and is counted as disturbed, not as a violation. A window no
 * step touched must be clean: after an invalidation has completed, KVM must write the
 * next update into the page that is mapped now. (Opening the window only after the base
 * read was a bug: a zap landing between that read and its closing marker read made KVM's
 * next update restart the version at 2 in a fresh page, equal to a base read of 2.)
 *
 * No globals: all vCPUs share this image; per-vCPU state lives on the stack and in the
 * pages the boot block names.
 */
#include "gpc_guest/abi.h"
#include "guest.h"
#include "loglinear.h"

/* Reads of one update before giving up on a page that stays odd: only a host copy taken
 * mid-update leaves it so, and only the next MSR write repairs it. */
#define GPC_PVC_MAX_SPINS 1000u

static uint64_t read_marker(const volatile uint64_t* marker) {
  gpc_barrier();
  const uint64_t m = marker ? *marker : 0;
  gpc_barrier();
  return m;
}

static void publish_view(struct gpc_guest_boot* boot, const volatile struct gpc_pvclock_time_info* pv) {
  const volatile uint64_t* words = (const volatile uint64_t*)pv;
  for (int i = 0; i < 4; ++i) boot->view[i] = words[i];
}

/* With invalidators running from the start, a zap may zero the page between KVM's first
 * write and the guest's read: enable again until a real page is read. */
static void enable_under_invalidators(struct gpc_guest_boot* boot, const volatile struct gpc_pvclock_time_info* pv,
                                      struct gpc_pvclock_snapshot* s) {
  for (unsigned tries = 0;; ++tries) {
    GUEST_ASSERT(boot, tries < 100000u);
    gpc_wrmsr(GPC_MSR_KVM_SYSTEM_TIME_NEW, boot->pvclock_gpa | 1u);
    unsigned spins = 0;
    while (gpc_pvclock_read(pv, s) != GPC_PVCLOCK_OK && ++spins < GPC_PVC_MAX_SPINS) {
    }
    if (spins < GPC_PVC_MAX_SPINS && s->version != 0 && s->tsc_to_system_mul != 0) return;
  }
}

void guest_main(struct gpc_guest_boot* boot) {
  const volatile struct gpc_pvclock_time_info* pv =
      (const volatile struct gpc_pvclock_time_info*)(uintptr_t)boot->pvclock_gpa;
  const volatile uint64_t* marker = (const volatile uint64_t*)(uintptr_t)boot->inval_marker_gpa;
  uint64_t* hist = (uint64_t*)(uintptr_t)boot->hist_gpa;
  const uint64_t msr_value = boot->pvclock_gpa | 1u;
  uint64_t c[GPC_PVC_COUNT] = {0};
  struct gpc_pvclock_snapshot s;
  const int pause_after_read = boot->mode == GPC_PVC_MODE_PAUSE_AFTER_READ;

  /* the marker before the base read's page accesses: opens the window of the next check */
  uint64_t base_marker = read_marker(marker);
  if (marker) enable_under_invalidators(boot, pv, &s);
  else gpc_pvclock_enable(boot, &s);
  publish_view(boot, pv);
  /* the last scale read from a clean, non-zero page converts latencies */
  uint32_t mul = s.tsc_to_system_mul;
  int8_t shift = s.tsc_shift;
  uint64_t last_now = gpc_pvclock_now(&s);
  uint64_t clock_now = last_now; /* newest time seen, for the deadline and SYNCs */
  const uint64_t end = last_now + boot->duration_ns;
  uint64_t next_sync = last_now + boot->sync_interval_ns;
  uint32_t last_version = s.version;

  while (!boot->stop) {
    const uint64_t t0 = gpc_rdtsc();
    gpc_wrmsr(GPC_MSR_KVM_SYSTEM_TIME_NEW, msr_value);
    const uint64_t t1 = gpc_rdtsc();

    const uint64_t read_start = read_marker(marker);
    int st;
    uint64_t odd = 0;
    unsigned spins = 0;
    while ((st = gpc_pvclock_read(pv, &s)) != GPC_PVCLOCK_OK) {
      if (st == GPC_PVCLOCK_ODD) ++odd;
      else ++c[GPC_PVC_RETRIES];
      if (++spins >= GPC_PVC_MAX_SPINS) break;
    }
    if (pause_after_read) gpc_sync(boot, GPC_PVC_STAGE_AFTER_READ, GPC_PVC_COUNT, c);
    const uint64_t read_end = read_marker(marker);
    const int disturbed = (base_marker & GPC_MARKER_BUSY_MASK) != 0 || base_marker != read_end;

    const int ok = st == GPC_PVCLOCK_OK;
    const int zeroed = ok && s.tsc_to_system_mul == 0;
    const uint64_t now = ok && !zeroed ? gpc_pvclock_now(&s) : last_now;
    const int stale = ok && s.version == last_version;
    const int back = ok && !zeroed && now < last_now;
    if (disturbed) {
      if (!ok || odd || zeroed || stale || back) ++c[GPC_PVC_DISTURBED];
      if (zeroed) ++c[GPC_PVC_ZEROED];
      /* a host copy may have put back an older page: take its version as the new base,
       * and keep the last clean time, which is earlier than any later true reading */
      if (ok) {
        last_version = s.version;
        base_marker = read_start;
      }
    } else {
      /* Writer and reader are the same vCPU, so KVM never leaves the page odd while we
       * run: an odd version means someone changed the page under the vCPU. */
      c[GPC_PVC_ODD] += odd + (!ok && !odd);
      /* each write requests a clock update, done before re-entry: version moves by 2; a
       * zeroed page means the update went somewhere the guest does not see */
      if (stale || zeroed) ++c[GPC_PVC_STALE];
      if (back) {
        /* only a stable (master clock) pvclock promises monotonicity across vCPU updates */
        if (s.flags & GPC_PVCLOCK_TSC_STABLE_BIT) ++c[GPC_PVC_BACKWARDS];
        else ++c[GPC_PVC_UNSTABLE_BACK];
      }
      if (ok) {
        last_version = s.version;
        base_marker = read_start;
        if (!zeroed) {
          last_now = now;
          mul = s.tsc_to_system_mul;
          shift = s.tsc_shift;
          publish_view(boot, pv);
        }
      }
    }
    if (ok && !zeroed && now > clock_now) clock_now = now;

    const uint64_t lat = gpc_pvclock_scale(t1 - t0, mul, shift);
    ++hist[gpc_ll_bucket(lat)];
    if (lat > c[GPC_PVC_MAX_NS]) c[GPC_PVC_MAX_NS] = lat;
    ++c[GPC_PVC_UPDATES];

    if (clock_now >= next_sync) {
      c[GPC_PVC_LAST_NS] = last_now;
      gpc_sync(boot, GPC_PVC_STAGE_PROGRESS, GPC_PVC_COUNT, c);
      next_sync = clock_now + boot->sync_interval_ns;
    }
    if (clock_now >= end) break;
  }
  c[GPC_PVC_LAST_NS] = last_now;
  gpc_ucall(boot, GPC_UCALL_REPORT, 0, GPC_PVC_COUNT, c);
  gpc_done(boot);
}
