// The process-wide stop request. SIGINT/SIGTERM set it; every loop that runs for a
// duration polls it, so Ctrl-C ends a run through the same teardown as its deadline.
#pragma once

#include <chrono>

namespace gpc {

// Installs SIGINT/SIGTERM handlers that only set the flag (async-signal-safe). Idempotent.
void install_stop_signal_handlers();

bool stop_requested();
void request_stop();
// The signal that requested the stop, 0 if none (or if request_stop() was called directly).
int stop_signal();
// Clears the request (tests and long-lived drivers between cells).
void reset_stop();

// A monotonic deadline that also expires on a stop request.
class Deadline {
 public:
  explicit Deadline(std::chrono::nanoseconds from_now)
      : at_(std::chrono::steady_clock::now() + from_now) {}
  bool expired() const { return stop_requested() || std::chrono::steady_clock::now() >= at_; }
  std::chrono::nanoseconds remaining() const {
    auto left = at_ - std::chrono::steady_clock::now();
    return left.count() > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                            : std::chrono::nanoseconds(0);
  }

 private:
  std::chrono::steady_clock::time_point at_;
};

}  // namespace gpc
