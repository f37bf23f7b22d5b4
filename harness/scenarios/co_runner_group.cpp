#include "scenarios/co_runner_group.hpp"

#include <utility>

namespace gpc::scenarios {

CoRunnerGroup::CoRunnerGroup(std::vector<int> pus, std::chrono::nanoseconds alone_time) : pus_(std::move(pus)) {
  for (int pu : pus_)
    if (!alone_.count(pu)) alone_[pu] = CoRunner::measure_alone(pu, alone_time);
}

CoRunnerGroup::~CoRunnerGroup() { stop(); }

void CoRunnerGroup::start() {
  if (!running_.empty()) return;
  for (int pu : pus_) running_.push_back(std::make_unique<CoRunner>(pu));
}

void CoRunnerGroup::stop() {
  if (running_.empty()) return;
  progress_.clear();
  for (auto& c : running_) {
    const double rate = c->stop();
    const double alone = alone_[c->pu()];
    progress_.push_back(alone > 0 ? rate / alone : 0);
  }
  running_.clear();
}

const CoRunner* CoRunnerGroup::running_on(int pu) const {
  for (const auto& c : running_)
    if (c->pu() == pu) return c.get();
  return nullptr;
}

double CoRunnerGroup::alone_rate(int pu) const {
  const auto it = alone_.find(pu);
  return it == alone_.end() ? 0 : it->second;
}

double CoRunnerGroup::mean_progress() const {
  if (progress_.empty()) return 0;
  double sum = 0;
  for (double p : progress_) sum += p;
  return sum / static_cast<double>(progress_.size());
}

}  // namespace gpc::scenarios
