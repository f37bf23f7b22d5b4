/*
 * pvclock guest (layer K): every iteration rewrites MSR_KVM_SYSTEM_TIME_NEW, which makes
 * KVM rewrite this vCPU's pvclock page through its gfn_to_pfn_cache before the vCPU
 * resumes, then reads the page back with the version protocol and checks it.
 *
 * No globals: all vCPUs share this image; per-vCPU state lives on the stack and in the
 * pages the boot block names.
 */
#include "gpc_guest/abi.h"
#include "guest.h"
#include "loglinear.h"

void guest_main(struct gpc_guest_boot* boot) {
  const volatile struct gpc_pvclock_time_info* pv =
      (const volatile struct gpc_pvclock_time_info*)(uintptr_t)boot->pvclock_gpa;
  uint64_t* hist = (uint64_t*)(uintptr_t)boot->hist_gpa;
  const uint64_t msr_value = boot->pvclock_gpa | 1u;
  uint64_t c[GPC_PVC_COUNT] = {0};
  struct gpc_pvclock_snapshot s;

  gpc_pvclock_enable(boot, &s);
  uint64_t last_now = gpc_pvclock_now(&s);
  const uint64_t end = last_now + boot->duration_ns;
  uint64_t next_sync = last_now + boot->sync_interval_ns;
  uint32_t last_version = s.version;

  while (!boot->stop) {
    const uint64_t t0 = gpc_rdtsc();
    gpc_wrmsr(GPC_MSR_KVM_SYSTEM_TIME_NEW, msr_value);
    const uint64_t t1 = gpc_rdtsc();

    int st;
    while ((st = gpc_pvclock_read(pv, &s)) != GPC_PVCLOCK_OK) {
      /* Writer and reader are the same vCPU, so KVM never leaves the page odd while we
       * run: an odd version means someone changed the page under the vCPU. */
      if (st == GPC_PVCLOCK_ODD) ++c[GPC_PVC_ODD];
      else ++c[GPC_PVC_RETRIES];
    }
    /* each write requests a clock update, done before re-entry: version moves by 2 */
    if (s.version == last_version) ++c[GPC_PVC_STALE];
    last_version = s.version;

    const uint64_t now = gpc_pvclock_now(&s);
    if (now < last_now) {
      /* only a stable (master clock) pvclock promises monotonicity across vCPU updates */
      if (s.flags & GPC_PVCLOCK_TSC_STABLE_BIT) ++c[GPC_PVC_BACKWARDS];
      else ++c[GPC_PVC_UNSTABLE_BACK];
    }
    last_now = now;

    const uint64_t lat = gpc_pvclock_scale(t1 - t0, s.tsc_to_system_mul, s.tsc_shift);
    ++hist[gpc_ll_bucket(lat)];
    if (lat > c[GPC_PVC_MAX_NS]) c[GPC_PVC_MAX_NS] = lat;
    ++c[GPC_PVC_UPDATES];

    if (now >= next_sync) {
      c[GPC_PVC_LAST_NS] = now;
      gpc_sync(boot, 1, GPC_PVC_COUNT, c);
      next_sync = now + boot->sync_interval_ns;
    }
    if (now >= end) break;
  }
  c[GPC_PVC_LAST_NS] = last_now;
  gpc_ucall(boot, GPC_UCALL_REPORT, 0, GPC_PVC_COUNT, c);
  gpc_done(boot);
}
