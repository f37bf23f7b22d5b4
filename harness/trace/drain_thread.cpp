#include "trace/drain_thread.hpp"

#include <utility>

namespace gpc::trace {

DrainThread::~DrainThread() {
  try {
    stop();
  } catch (...) {  // the owner's own teardown reports first
  }
}

void DrainThread::start(std::function<void()> pass, Nanos interval) {
  stop_.store(false);
  thread_ = std::thread([this, pass = std::move(pass), interval] {
    try {
      while (!stop_.load(std::memory_order_acquire)) {
        pass();
        std::this_thread::sleep_for(interval);
      }
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

bool DrainThread::stop() {
  if (!thread_.joinable()) return false;
  stop_.store(true, std::memory_order_release);
  thread_.join();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return true;
}

}  // namespace gpc::trace
