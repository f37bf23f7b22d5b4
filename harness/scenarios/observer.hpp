// What runs beside a scenario's measured threads without being measured: the co-runners
// (the CPU a waiting strategy leaves to others), the reader that checks what reached the
// guest pages, and in layer K the kernel trace session (layer_k_evidence.hpp). A rig holds
// them in a list (rig.hpp); the measurement phase starts them all before the measured
// threads and the invalidators, and stops them after (measurement_phase.hpp).
#pragma once

namespace gpc::scenarios {

class Observer {
 public:
  virtual ~Observer() = default;

  // Once, in the order the observers were added to the rig.
  virtual void start() = 0;
  // After the measured threads and the invalidators stopped, newest observer first, so a
  // reader's final sweep sees pages nothing changes any more. Idempotent, and a no-op
  // before start(): the rig's teardown calls it again on every path. It may throw (a
  // failed reader guest); the phase reports the first such error after stopping the rest.
  virtual void stop() = 0;
  // False once it ended on its own (the reader guest asserted or hung): its counts stop
  // there, so the measurement phase ends early.
  virtual bool running() const { return true; }
};

}  // namespace gpc::scenarios
