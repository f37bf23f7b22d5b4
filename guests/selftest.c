/* selftest guest: small sub-tests of the VMM itself (harness/kvm tests), by boot->mode. */
#include "gpc_guest/abi.h"
#include "guest.h"

static void long_mode(struct gpc_guest_boot* boot) {
  uint64_t v[4];
  __asm__ volatile("mov %%cr0, %0" : "=r"(v[0]));
  __asm__ volatile("mov %%cr4, %0" : "=r"(v[1]));
  v[2] = gpc_rdmsr(0xc0000080u); /* EFER */
  uint16_t cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  v[3] = cs;
  gpc_sync(boot, 1, 4, v);
}

static void echo(struct gpc_guest_boot* boot) {
  for (uint64_t i = 0; i < boot->iterations; ++i) {
    uint64_t v[2] = {i, i * 3};
    gpc_sync(boot, 2, 2, v);
  }
}

static void hang(struct gpc_guest_boot* boot) {
  uint64_t v = boot->vcpu_index;
  gpc_sync(boot, 1, 1, &v);
  for (;;) gpc_pause(); /* no ucall ever again: only the host's watchdog ends this */
}

static void rendezvous(struct gpc_guest_boot* boot) {
  volatile uint64_t* arrived = (volatile uint64_t*)(uintptr_t)boot->shared_gpa;
  __atomic_fetch_add(arrived, 1, __ATOMIC_SEQ_CST);
  uint64_t spins = 0;
  while (*arrived < boot->nr_vcpus && !boot->stop) {
    gpc_pause();
    ++spins;
  }
  uint64_t v[2] = {spins, *arrived};
  gpc_sync(boot, 3, 2, v);
}

void guest_main(struct gpc_guest_boot* boot) {
  GUEST_ASSERT_EQ(boot, boot->magic, GPC_BOOT_MAGIC);
  switch (boot->mode) {
    case GPC_SELFTEST_LONG_MODE: long_mode(boot); break;
    case GPC_SELFTEST_ECHO: echo(boot); break;
    case GPC_SELFTEST_ASSERT: GUEST_ASSERT_EQ(boot, boot->iterations, 12345); break;
    case GPC_SELFTEST_HANG: hang(boot); break;
    case GPC_SELFTEST_RENDEZVOUS: rendezvous(boot); break;
    default: GUEST_ASSERT(boot, !"unknown selftest mode");
  }
  gpc_done(boot);
}
