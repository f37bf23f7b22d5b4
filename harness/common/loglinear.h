/*
 * Bucket layout of gpcbench's log-linear (HDR-style) latency histograms.
 * Plain C so freestanding guests record into the same layout the host decodes.
 *
 * Values below 2^GPC_LL_SUB_BITS get one bucket each; above, every power of two
 * is split into 2^GPC_LL_SUB_BITS equal buckets: relative error <= 1/32 (3.1%).
 */
#ifndef GPC_COMMON_LOGLINEAR_H
#define GPC_COMMON_LOGLINEAR_H

#include <stdint.h>

#define GPC_LL_SUB_BITS 5u
#define GPC_LL_SUB_COUNT (1u << GPC_LL_SUB_BITS)
/* exponents GPC_LL_SUB_BITS..63 each get GPC_LL_SUB_COUNT buckets, plus the linear range */
#define GPC_LL_BUCKETS ((64u - GPC_LL_SUB_BITS + 1u) * GPC_LL_SUB_COUNT)

static inline uint32_t gpc_ll_bucket(uint64_t v) {
  if (v < GPC_LL_SUB_COUNT) return (uint32_t)v;
  uint32_t msb = 63u - (uint32_t)__builtin_clzll(v);
  uint32_t shift = msb - GPC_LL_SUB_BITS;
  uint32_t sub = (uint32_t)(v >> shift) - GPC_LL_SUB_COUNT;
  return (shift + 1u) * GPC_LL_SUB_COUNT + sub;
}

/* Smallest value that falls into bucket `idx`. */
static inline uint64_t gpc_ll_bucket_low(uint32_t idx) {
  if (idx < GPC_LL_SUB_COUNT) return idx;
  uint32_t shift = idx / GPC_LL_SUB_COUNT - 1u;
  uint64_t sub = idx % GPC_LL_SUB_COUNT;
  return (GPC_LL_SUB_COUNT + sub) << shift;
}

/* Largest value that falls into bucket `idx`. */
static inline uint64_t gpc_ll_bucket_high(uint32_t idx) {
  if (idx < GPC_LL_SUB_COUNT) return idx;
  uint32_t shift = idx / GPC_LL_SUB_COUNT - 1u;
  return gpc_ll_bucket_low(idx) + ((uint64_t)1 << shift) - 1u;
}

#endif
