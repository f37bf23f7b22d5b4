// A background thread that calls one pass (draining a trace or perf buffer) every
// `interval` until stop(), which joins it and rethrows what the pass threw. Shared by the
// tracepoint and probe readers.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <thread>

#include "common/duration.hpp"

namespace gpc::trace {

class DrainThread {
 public:
  DrainThread() = default;
  ~DrainThread();  // stops; an exception of the pass is dropped here (call stop() to see it)
  DrainThread(const DrainThread&) = delete;
  DrainThread& operator=(const DrainThread&) = delete;

  void start(std::function<void()> pass, Nanos interval);
  // Joins; rethrows the pass's exception. Returns false when it was not running.
  bool stop();

 private:
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

}  // namespace gpc::trace
