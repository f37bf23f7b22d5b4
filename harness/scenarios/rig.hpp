// The rig of one scenario run: every part it is built from, owned in one place and torn
// down in one order (issue 13). The parts, in the order they are made:
//   placement     which PU each thread runs on (placement_plan.hpp), planned before the rig
//   co-runners    their baselines measured first, before anything else of the run exists
//   leak count    this process's fds and memfd mappings (leak_check.hpp)
//   memory        the guest memory every other part lives on
//   subject       what the invalidators disturb and the readers check: the embedded cache
//                 model (layer E) or the VM whose caches the kernel keeps (layer K)
//   invalidators  one thread each on the memory, pinned as planned
//   observers     the co-runners first, then what the scenario adds (the reader)
// The measurement phase (measurement_phase.hpp) starts and stops the invalidators and the
// observers. teardown(), or the destructor on an exception or Ctrl-C, stops whatever still
// runs, destroys observers, invalidators, subject and memory in that order (a part always
// goes before what it uses: the invalidators call into the subject's notifier model) and
// counts the resources again.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "invalidators/runner.hpp"
#include "memory/region.hpp"
#include "scenarios/co_runner_group.hpp"
#include "scenarios/leak_check.hpp"
#include "scenarios/observer.hpp"
#include "topology/placement.hpp"

namespace gpc::scenarios {

// Base of a rig's subject, so the rig can own any kind and destroy it in its turn.
class RigSubject {
 public:
  virtual ~RigSubject() = default;
};

class Rig {
 public:
  // With co-runner PUs in `placement`, measures their baselines, then counts resources.
  explicit Rig(Placement placement);
  ~Rig();  // teardown() if it was not called; errors are dropped (one is propagating)
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  const Placement& placement() const { return placement_; }

  template <class Region>
  Region& set_memory(std::unique_ptr<Region> region) {
    Region& r = *region;
    memory_ = std::move(region);
    return r;
  }
  GuestRegion& memory() const { return *memory_; }

  template <class Subject>
  Subject& set_subject(std::unique_ptr<Subject> subject) {
    Subject& s = *subject;
    subject_ = std::move(subject);
    return s;
  }

  // One thread per invalidator, pinned to the placement's invalidator PUs, `rate_hz` each
  // (0 = free-running). An empty list makes no runner. `op_log` (optional, owned by an
  // observer, so it outlives the runner's threads) gets every operation's stamps.
  void set_invalidators(std::vector<std::unique_ptr<Invalidator>> invalidators, double rate_hz,
                        trace::HostOpLog* op_log = nullptr);
  InvalidatorRunner* invalidators() const { return invalidators_.get(); }

  template <class O>
  O& add_observer(std::unique_ptr<O> observer) {
    O& o = *observer;
    observers_.push_back(std::move(observer));
    return o;
  }
  const std::vector<std::unique_ptr<Observer>>& observers() const { return observers_; }
  CoRunnerGroup* co_runners() const { return co_runners_; }  // nullptr: none planned

  // Stops what runs and destroys every part in the order above; returns the resources
  // before and after. Call it after reading what the parts measured.
  LeakReport teardown();

 private:
  void stop_running() noexcept;

  Placement placement_;
  CoRunnerGroup* co_runners_ = nullptr;  // owned by observers_
  LeakReport leaks_;
  bool torn_down_ = false;
  // Destroyed in reverse order of declaration: the same order teardown() follows.
  std::unique_ptr<GuestRegion> memory_;
  std::unique_ptr<RigSubject> subject_;
  std::unique_ptr<InvalidatorRunner> invalidators_;
  std::vector<std::unique_ptr<Observer>> observers_;
};

}  // namespace gpc::scenarios
