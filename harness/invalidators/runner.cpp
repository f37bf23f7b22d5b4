#include "invalidators/runner.hpp"

#include <chrono>
#include <thread>

#include "common/stop.hpp"
#include "invalidators/hold.hpp"
#include "topology/pinning.hpp"

namespace gpc {

using Clock = std::chrono::steady_clock;
constexpr int kMaxCatchUp = 16;

void InvalidatorStats::add(const StepResult& r) {
  ++ops;
  op_ns.record(r.op_ns);
  bracket_ns.record(r.bracket_ns);
  if (r.op_failed) ++op_failed;
  if (!r.verified()) ++unverified;
  if (r.pfn_changed()) ++pfn_changed;
  if (r.thp_changed()) ++thp_changed;
  if (r.content_preserved && !*r.content_preserved) ++content_lost;
}

InvalidatorRunner::InvalidatorRunner(std::vector<std::unique_ptr<Invalidator>> invalidators, std::vector<int> pus,
                                     RunnerOptions options)
    : invalidators_(std::move(invalidators)), pus_(std::move(pus)), options_(options) {
  pus_.resize(invalidators_.size(), -1);
  stats_.resize(invalidators_.size());
  for (size_t i = 0; i < invalidators_.size(); ++i) {
    stats_[i].type = invalidators_[i]->type();
    stats_[i].target = invalidators_[i]->config().target;
    invalidators_[i]->set_stop_flag(&stop_flag_);
  }
}

InvalidatorRunner::~InvalidatorRunner() {
  try {
    stop();
  } catch (...) {
    // A thread's error was not collected by the owner; nothing more to do while unwinding.
  }
}

void InvalidatorRunner::start() {
  if (running()) return;
  stop_flag_.store(false);
  error_ = nullptr;
  for (size_t i = 0; i < invalidators_.size(); ++i) {
    stats_[i] = InvalidatorStats{invalidators_[i]->type(), invalidators_[i]->config().target};
    try {
      threads_.emplace_back([this, i] { thread_main(i); });
    } catch (...) {
      stop();
      throw;
    }
  }
}

void InvalidatorRunner::stop() {
  stop_flag_.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::exception_ptr err;
  {
    std::lock_guard lock(error_mutex_);
    err = std::exchange(error_, nullptr);
  }
  if (err) std::rethrow_exception(err);
}

void InvalidatorRunner::run_for(Nanos duration) {
  start();
  Deadline deadline(duration);
  while (!deadline.expired()) {
    if (stop_flag_.load(std::memory_order_relaxed)) break;
    std::this_thread::sleep_for(std::min<Nanos>(deadline.remaining(), std::chrono::milliseconds(20)));  // wake rarely: it shares the PU
  }
  stop();
}

void InvalidatorRunner::thread_main(size_t index) {
  InvalidatorStats& st = stats_[index];
  Invalidator& inv = *invalidators_[index];
  const auto stopping = [this] { return stop_requested() || stop_flag_.load(std::memory_order_relaxed); };
  const auto begin = Clock::now();
  try {
    if (pus_[index] >= 0) pin_current_thread(pus_[index]);
    const bool paced = options_.rate_hz > 0;
    const auto period = paced ? Nanos(static_cast<int64_t>(1e9 / options_.rate_hz)) : Nanos(0);
    auto next = Clock::now();
    while (!stopping()) {
      st.add(inv.step());
      if (paced) {
        next += period;
        // A late wake-up is made up by the next steps (the rate is an average), but after
        // falling behind by more than kMaxCatchUp periods the schedule restarts instead
        // of bursting.
        if (Clock::now() > next + kMaxCatchUp * period) next = Clock::now();
        if (!wait_until(next, &stop_flag_)) break;
      }
    }
  } catch (...) {
    std::lock_guard lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
    stop_flag_.store(true);  // one failure ends the run
  }
  st.seconds = std::chrono::duration<double>(Clock::now() - begin).count();
}

}  // namespace gpc
