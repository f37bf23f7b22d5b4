#include "scenarios/rig.hpp"

namespace gpc::scenarios {

Rig::Rig(Placement placement) : placement_(std::move(placement)) {
  if (!placement_.co_runner_pus.empty())
    co_runners_ = &add_observer(std::make_unique<CoRunnerGroup>(placement_.co_runner_pus));
  leaks_.before = count_resources();
}

Rig::~Rig() {
  try {
    teardown();
  } catch (...) {
    // The exception that unwinds the scenario is the one to report.
  }
}

void Rig::set_invalidators(std::vector<std::unique_ptr<Invalidator>> invalidators, double rate_hz,
                           trace::HostOpLog* op_log) {
  if (invalidators.empty()) return;
  invalidators_ = std::make_unique<InvalidatorRunner>(std::move(invalidators), placement_.invalidator_pus,
                                                      RunnerOptions{rate_hz, op_log});
}

void Rig::stop_running() noexcept {
  if (invalidators_) {
    try {
      invalidators_->stop();
    } catch (...) {  // an invalidator's error the phase did not collect: the run failed anyway
    }
  }
  for (auto it = observers_.rbegin(); it != observers_.rend(); ++it) {
    try {
      (*it)->stop();
    } catch (...) {  // likewise
    }
  }
}

LeakReport Rig::teardown() {
  if (torn_down_) return leaks_;
  torn_down_ = true;
  stop_running();
  co_runners_ = nullptr;
  while (!observers_.empty()) observers_.pop_back();
  invalidators_.reset();
  subject_.reset();
  memory_.reset();
  leaks_.after = count_resources();
  return leaks_;
}

}  // namespace gpc::scenarios
