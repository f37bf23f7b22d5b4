/*
 * Helpers shared by gpcbench's freestanding guests: port I/O, MSRs, TSC, ucalls and
 * the pvclock version protocol. Guests run at CPL0 with an identity map, where this
 * machine emulates every instruction: keep the hot paths a handful of instructions.
 */
#ifndef GPC_GUEST_LIB_GUEST_H
#define GPC_GUEST_LIB_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "gpc_guest/abi.h"

#define GPC_NORETURN __attribute__((noreturn))

/* guest.c has them (the compiler may also emit calls on its own). */
void* memset(void* dst, int c, size_t n);
void* memcpy(void* dst, const void* src, size_t n);

/* Every guest defines this; the entry stub calls it with the boot block in RDI. */
void guest_main(struct gpc_guest_boot* boot);

static inline void gpc_outl(uint16_t port, uint32_t value) {
  __asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint64_t gpc_rdtsc(void) {
  uint32_t lo, hi;
  /* lfence: the TSC is read after earlier instructions (the wrmsr) have completed */
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return ((uint64_t)hi << 32) | lo;
}

static inline void gpc_wrmsr(uint32_t msr, uint64_t value) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                   : "memory");
}

static inline uint64_t gpc_rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}

static inline void gpc_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void gpc_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* ---- ucalls ---- */
void gpc_ucall(struct gpc_guest_boot* boot, uint64_t cmd, uint64_t stage, uint64_t nvalues,
               const uint64_t* values);
void gpc_assert_fail(struct gpc_guest_boot* boot, const char* file, uint64_t line,
                     const char* expr, uint64_t a, uint64_t b) GPC_NORETURN;
void gpc_done(struct gpc_guest_boot* boot) GPC_NORETURN;

static inline void gpc_sync(struct gpc_guest_boot* boot, uint64_t stage, uint64_t nvalues,
                            const uint64_t* values) {
  gpc_ucall(boot, GPC_UCALL_SYNC, stage, nvalues, values);
}

/* A failed check becomes a host error naming this file and line, with the two values. */
#define GUEST_ASSERT(boot, cond) \
  do { if (!(cond)) gpc_assert_fail((boot), __FILE__, __LINE__, #cond, 0, 0); } while (0)
#define GUEST_ASSERT_EQ(boot, a, b) \
  do { uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
       if (a_ != b_) gpc_assert_fail((boot), __FILE__, __LINE__, #a " == " #b, a_, b_); } while (0)

/* ---- pvclock ---- */
struct gpc_pvclock_snapshot {
  uint32_t version;
  uint8_t flags;
  int8_t tsc_shift;
  uint32_t tsc_to_system_mul;
  uint64_t tsc_timestamp;
  uint64_t system_time;
  uint64_t tsc; /* TSC read inside the protected section: `now` is exact for it */
};

enum gpc_pvclock_read_status { GPC_PVCLOCK_OK = 0, GPC_PVCLOCK_ODD = 1, GPC_PVCLOCK_CHANGED = 2 };

/* One attempt of the version protocol: version, data, version again. */
static inline int gpc_pvclock_read(const volatile struct gpc_pvclock_time_info* pv,
                                   struct gpc_pvclock_snapshot* s) {
  uint32_t v1 = pv->version;
  gpc_barrier();
  s->tsc_timestamp = pv->tsc_timestamp;
  s->system_time = pv->system_time;
  s->tsc_to_system_mul = pv->tsc_to_system_mul;
  s->tsc_shift = pv->tsc_shift;
  s->flags = pv->flags;
  s->tsc = gpc_rdtsc();
  gpc_barrier();
  uint32_t v2 = pv->version;
  s->version = v1;
  if (v1 & 1u) return GPC_PVCLOCK_ODD;
  return v1 == v2 ? GPC_PVCLOCK_OK : GPC_PVCLOCK_CHANGED;
}

/* TSC cycles to ns with the page's scale (the kernel's pvclock_scale_delta). */
static inline uint64_t gpc_pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift) {
  if (shift < 0) delta >>= -shift;
  else delta <<= shift;
  return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static inline uint64_t gpc_pvclock_now(const struct gpc_pvclock_snapshot* s) {
  return s->system_time +
         gpc_pvclock_scale(s->tsc - s->tsc_timestamp, s->tsc_to_system_mul, s->tsc_shift);
}

/* Enables kvmclock on the page and returns a consistent first reading. */
void gpc_pvclock_enable(struct gpc_guest_boot* boot, struct gpc_pvclock_snapshot* s);

#endif
