/* Entry stub, ucalls and the few libc functions the compiler may call on its own. */
#include "guest.h"

#include <stddef.h>

/* The host starts every vCPU here (GPC_GUEST_CODE_GPA, first in the image) with
 * RSP on its stack and RDI = its boot block. guest_main never returns normally:
 * gpc_done halts; the hlt loop only catches a guest bug. */
__asm__(
    ".section .text.entry, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "  call guest_main\n"
    "1: hlt\n"
    "  jmp 1b\n"
    ".previous\n");

void* memset(void* dst, int c, size_t n) {
  unsigned char* d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

void* memcpy(void* dst, const void* src, size_t n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void gpc_ucall(struct gpc_guest_boot* boot, uint64_t cmd, uint64_t stage, uint64_t nvalues,
               const uint64_t* values) {
  struct gpc_ucall* u = &boot->ucall;
  if (nvalues > GPC_UCALL_MAX_VALUES) nvalues = GPC_UCALL_MAX_VALUES;
  u->cmd = cmd;
  u->stage = stage;
  u->file_gpa = 0;
  u->expr_gpa = 0;
  u->nvalues = nvalues;
  for (uint64_t i = 0; i < nvalues; ++i) u->values[i] = values[i];
  /* identity map: the pointer is the gpa; the layout keeps it below 4 GB */
  gpc_outl(GPC_UCALL_PORT, (uint32_t)(uintptr_t)u);
}

void gpc_assert_fail(struct gpc_guest_boot* boot, const char* file, uint64_t line,
                     const char* expr, uint64_t a, uint64_t b) {
  struct gpc_ucall* u = &boot->ucall;
  u->cmd = GPC_UCALL_ASSERT;
  u->stage = line;
  u->file_gpa = (uint64_t)(uintptr_t)file;
  u->expr_gpa = (uint64_t)(uintptr_t)expr;
  u->nvalues = 2;
  u->values[0] = a;
  u->values[1] = b;
  for (;;) gpc_outl(GPC_UCALL_PORT, (uint32_t)(uintptr_t)u); /* the host never resumes us */
}

void gpc_done(struct gpc_guest_boot* boot) {
  for (;;) gpc_ucall(boot, GPC_UCALL_DONE, 0, 0, NULL);
}

void gpc_pvclock_enable(struct gpc_guest_boot* boot, struct gpc_pvclock_snapshot* s) {
  const volatile struct gpc_pvclock_time_info* pv =
      (const volatile struct gpc_pvclock_time_info*)(uintptr_t)boot->pvclock_gpa;
  gpc_wrmsr(GPC_MSR_KVM_SYSTEM_TIME_NEW, boot->pvclock_gpa | 1u);
  int tries = 0;
  while (gpc_pvclock_read(pv, s) != GPC_PVCLOCK_OK) GUEST_ASSERT(boot, ++tries < 1000);
  /* KVM fills the page before the vCPU re-enters after the MSR write */
  GUEST_ASSERT(boot, s->version != 0);
  GUEST_ASSERT(boot, s->tsc_to_system_mul != 0);
}
