// The co-runners of a run, an observer (observer.hpp): one CoRunner per entry of the
// placement's co_runner_pus, each judged against a baseline taken alone on its own PU. Its
// progress, the co-runner's work rate during the run over that baseline, is the other side
// of the waiting-strategy trade (BRIEF §1: the CPU a waiter leaves to a task sharing its PU).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "scenarios/co_runner.hpp"
#include "scenarios/observer.hpp"

namespace gpc::scenarios {

// How long each PU's baseline runs: the value `run cache` has always used, not tuned by a
// measurement; at ~1-2 us per work unit (co_runner.hpp) it averages some 10^5 units.
inline constexpr std::chrono::milliseconds kCoRunnerAloneTime{300};

class CoRunnerGroup : public Observer {
 public:
  // Measures every distinct PU's baseline now (CoRunner::measure_alone for `alone_time`),
  // before anything else of the run exists.
  explicit CoRunnerGroup(std::vector<int> pus, std::chrono::nanoseconds alone_time = kCoRunnerAloneTime);
  ~CoRunnerGroup() override;

  void start() override;
  void stop() override;

  // After stop(): per co-runner, its rate during the run over its PU's baseline (1 = it
  // lost nothing to the run; 0 when the baseline was 0).
  const std::vector<double>& progress() const { return progress_; }
  double mean_progress() const;  // 0 without co-runners

  // While running (between start() and stop()): the co-runner on `pu`, nullptr if none.
  const CoRunner* running_on(int pu) const;
  double alone_rate(int pu) const;  // units per second of the baseline on `pu`; 0 if none

 private:
  std::vector<int> pus_;
  std::map<int, double> alone_;  // units per second, per PU
  std::vector<std::unique_ptr<CoRunner>> running_;
  std::vector<double> progress_;
};

}  // namespace gpc::scenarios
