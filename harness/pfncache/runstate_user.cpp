#include "pfncache/runstate_user.hpp"

namespace gpc::pfncache {

RunstateResult RunstateUser::update(bool atomic, uint64_t value) {
  constexpr size_t kLen = 8;
  // gpc1 first, then gpc2 with gpc1 held (lock order gpc1 > gpc2). Contention means an
  // invalidation or refresh is under way: the atomic path gives up at once.
  const bool try_only = atomic && !blocking_in_atomic;
  auto g1 = try_only ? gpc1.read_trylock() : gpc1.read_lock();
  if (!g1) return try_only ? RunstateResult::kSkipped : RunstateResult::kStopped;
  if (!gpc1.check(kLen)) return atomic ? RunstateResult::kSkipped : RunstateResult::kInvalid;
  auto g2 = try_only ? gpc2.read_trylock() : gpc2.read_lock();
  if (!g2) return try_only ? RunstateResult::kSkipped : RunstateResult::kStopped;
  if (!gpc2.check(kLen)) return atomic ? RunstateResult::kSkipped : RunstateResult::kInvalid;
  checker.write_u64(gpc1, 0, value);
  checker.write_u64(gpc2, 0, value);
  return RunstateResult::kUpdated;
}

}  // namespace gpc::pfncache
