#include "scenarios/measurement_phase.hpp"

#include <algorithm>
#include <exception>
#include <thread>

namespace gpc::scenarios {

MeasurementPhase::MeasurementPhase(Rig& rig) : rig_(rig) {
  // On a throw here the rig's teardown stops what already started.
  for (const auto& o : rig_.observers()) o->start();
  if (InvalidatorRunner* inv = rig_.invalidators()) inv->start();
}

MeasurementPhase::~MeasurementPhase() {
  if (ended_) return;
  try {
    end();
  } catch (...) {
    // Only reached while an exception unwinds the scenario: that one is reported.
  }
}

bool MeasurementPhase::should_end(const Deadline& deadline) const {
  if (deadline.expired()) return true;
  const auto& obs = rig_.observers();
  return std::any_of(obs.begin(), obs.end(), [](const auto& o) { return !o->running(); });
}

void MeasurementPhase::wait(Nanos duration) const {
  const Deadline deadline(duration);
  while (!should_end(deadline)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void MeasurementPhase::stop_invalidators() {
  if (InvalidatorRunner* inv = rig_.invalidators()) inv->stop();
}

void MeasurementPhase::end() {
  ended_ = true;
  std::exception_ptr first;
  try {
    stop_invalidators();
  } catch (...) {
    first = std::current_exception();
  }
  const auto& obs = rig_.observers();
  for (auto it = obs.rbegin(); it != obs.rend(); ++it) {
    try {
      (*it)->stop();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  interrupted_ = stop_requested();
  if (first) std::rethrow_exception(first);
}

}  // namespace gpc::scenarios
