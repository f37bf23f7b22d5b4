#include "scenarios/collision_split.hpp"

namespace gpc::scenarios {

bool wait_collided(bool active_at_failed_check, const pfncache::GpcStats& before, const pfncache::GpcStats& after) {
  if (active_at_failed_check) return true;
  const bool retried = after.retries > before.retries;
  const bool waited = after.spin_ns > before.spin_ns || after.yields > before.yields || after.sleeps > before.sleeps;
  return retried || waited;
}

void CollisionSplit::record(uint64_t latency_ns, uint64_t cpu_ns, bool was_collided, uint64_t corunner_units_in_wait) {
  if (!was_collided) {
    uncollided.record(latency_ns);
    return;
  }
  collided.record(latency_ns);
  collided_cpu_ns += cpu_ns;
  collided_wall_ns += latency_ns;
  if (corunner_alone_rate > 0) {
    corunner_units += corunner_units_in_wait;
    corunner_expected += corunner_alone_rate * static_cast<double>(latency_ns) / 1e9;
  }
}

void CollisionSplit::merge(const CollisionSplit& o) {
  collided.merge(o.collided);
  uncollided.merge(o.uncollided);
  collided_cpu_ns += o.collided_cpu_ns;
  collided_wall_ns += o.collided_wall_ns;
  corunner_units += o.corunner_units;
  corunner_expected += o.corunner_expected;
}

double CollisionSplit::cpu_ns_per_collision() const {
  if (collided.count() == 0) return -1;
  return static_cast<double>(collided_cpu_ns) / static_cast<double>(collided.count());
}

double CollisionSplit::corunner_progress_during_waits() const {
  if (corunner_expected <= 0) return -1;
  return static_cast<double>(corunner_units) / corunner_expected;
}

}  // namespace gpc::scenarios
