#include "pfncache/contract_checker.hpp"

namespace gpc::pfncache {

const char* to_string(Access a) {
  switch (a) {
    case Access::kOk: return "ok";
    case Access::kUnsafeByDesign: return "unsafe-by-design";
    case Access::kUseAfterStart: return "use-after-start";
    case Access::kStale: return "stale";
    case Access::kNullKhva: return "null-khva";
    case Access::kUnverifiable: return "unverifiable";
  }
  return "?";
}

Access ContractChecker::classify(const GpcView& v) {
  accesses_.fetch_add(1, std::memory_order_relaxed);
  if (!v.khva) {
    null_.fetch_add(1, std::memory_order_relaxed);
    return Access::kNullKhva;
  }
  const uint64_t e1 = vm_.epoch();
  if (vm_.returned_start_covers(v.uhva)) {
    if (unsafe_by_design(vm_.policy())) {
      unsafe_.fetch_add(1, std::memory_order_relaxed);
      return Access::kUnsafeByDesign;
    }
    after_start_.fetch_add(1, std::memory_order_relaxed);
    return Access::kUseAfterStart;
  }
  if (!lookup_) return Access::kOk;
  const auto now = lookup_->memfd_offset_of(page_of(v.uhva));
  const bool differs = !now || *now != v.memfd_offset;
  if (!differs) return Access::kOk;
  // The backing can legitimately change only inside an invalidation, i.e. after a
  // range_start returned; if one did meanwhile, the next access is judged by (a).
  if (vm_.epoch() != e1) {
    unverifiable_.fetch_add(1, std::memory_order_relaxed);
    return Access::kUnverifiable;
  }
  stale_.fetch_add(1, std::memory_order_relaxed);
  return Access::kStale;
}

Access ContractChecker::write_u64(const Gpc& gpc, size_t offset, uint64_t value) {
  const GpcView v = gpc.view();
  const Access a = classify(v);
  if (a != Access::kNullKhva)
    __atomic_store_n(reinterpret_cast<uint64_t*>(v.khva + offset), value, __ATOMIC_RELAXED);
  return a;
}

Access ContractChecker::read_u64(const Gpc& gpc, size_t offset, uint64_t* out) {
  const GpcView v = gpc.view();
  const Access a = classify(v);
  if (a != Access::kNullKhva)
    *out = __atomic_load_n(reinterpret_cast<const uint64_t*>(v.khva + offset), __ATOMIC_RELAXED);
  return a;
}

ContractStats ContractChecker::stats() const {
  ContractStats s;
  s.accesses = accesses_.load(std::memory_order_relaxed);
  s.unsafe_violations = unsafe_.load(std::memory_order_relaxed);
  s.use_after_start = after_start_.load(std::memory_order_relaxed);
  s.stale = stale_.load(std::memory_order_relaxed);
  s.null_khva = null_.load(std::memory_order_relaxed);
  s.unverifiable = unverifiable_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace gpc::pfncache
