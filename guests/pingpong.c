/*
 * pingpong guest: bare OUT exits to the bench port, forever. The host times each
 * KVM_RUN (exit to userspace and back) and ends the run at its own deadline: the floor
 * every ucall-based measurement sits on.
 */
#include "gpc_guest/abi.h"
#include "guest.h"

void guest_main(struct gpc_guest_boot* boot) {
  uint32_t i = 0;
  while (!boot->stop) gpc_outl(GPC_BENCH_PORT, i++);
  uint64_t exits = i;
  gpc_ucall(boot, GPC_UCALL_REPORT, 0, GPC_PP_COUNT, &exits);
  gpc_done(boot);
}
