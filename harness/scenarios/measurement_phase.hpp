// The measurement phase every scenario shares, on its rig (rig.hpp). It begins by starting
// the observers (in the order added: co-runners, then the reader, which must see the pages
// before events flow) and then the invalidators. The scenario then runs its measured
// threads (writers, vCPUs, a sender) until they end, the deadline passes, Ctrl-C/SIGTERM
// arrives (gpc::stop_requested, BRIEF §4: exit 130), or an observer ends on its own. end()
// stops the invalidators first, then the observers newest first, and rethrows the first
// error any of them hit; the destructor does the same on an exception, dropping errors.
#pragma once

#include "common/duration.hpp"
#include "common/stop.hpp"
#include "scenarios/rig.hpp"

namespace gpc::scenarios {

class MeasurementPhase {
 public:
  explicit MeasurementPhase(Rig& rig);
  ~MeasurementPhase();
  MeasurementPhase(const MeasurementPhase&) = delete;
  MeasurementPhase& operator=(const MeasurementPhase&) = delete;

  // The common end rule: `deadline` expired (a Deadline also expires on a stop request) or
  // an observer ended on its own.
  bool should_end(const Deadline& deadline) const;
  // Sleeps (in 5 ms steps: the writers and invalidators keep the PUs) until should_end()
  // for a deadline `duration` from now.
  void wait(Nanos duration) const;

  // Stops the invalidators now; for a scenario that settles its work with them stopped
  // while its measured threads still run (xen-evtchn's sender). Rethrows an invalidator's
  // error. end() does not stop them again.
  void stop_invalidators();

  // Invalidators, then observers; rethrows the first error. Records whether the run was
  // interrupted (Ctrl-C/SIGTERM) by then.
  void end();
  bool interrupted() const { return interrupted_; }

 private:
  Rig& rig_;
  bool ended_ = false;
  bool interrupted_ = false;
};

}  // namespace gpc::scenarios
