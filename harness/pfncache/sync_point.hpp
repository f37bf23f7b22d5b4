// Forced interleavings without sleeps: a thread parks at a SyncPoint until the test
// releases it; the test waits until the thread has arrived. Every wait is bounded so a
// broken interleaving fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace gpc::pfncache {

class SyncPoint {
 public:
  // Parks the caller until release(). False if `bound` expired first.
  bool arrive(std::chrono::nanoseconds bound = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lk(mu_);
    ++arrivals_;
    cv_.notify_all();
    return cv_.wait_for(lk, bound, [&] { return released_; });
  }
  // Waits until `n` arrivals happened. False if `bound` expired first.
  bool wait_arrived(int n = 1, std::chrono::nanoseconds bound = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, bound, [&] { return arrivals_ >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> lk(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int arrivals() const {
    std::lock_guard<std::mutex> lk(mu_);
    return arrivals_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int arrivals_ = 0;
  bool released_ = false;
};

// Polls `cond` (cheap atomic reads) with sched_yield until true or `bound` expires. For
// conditions a thread cannot announce itself, e.g. "is spinning on a lock".
template <typename Cond>
bool eventually(Cond&& cond, std::chrono::nanoseconds bound = std::chrono::seconds(10));

}  // namespace gpc::pfncache

#include <sched.h>

template <typename Cond>
bool gpc::pfncache::eventually(Cond&& cond, std::chrono::nanoseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    sched_yield();
  }
  return true;
}
