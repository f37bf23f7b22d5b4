// The measured threads of `run cache`: one writer (cache_writer.hpp) per cache of the
// model, pinned to its planned PU, all released together by go() and joined on every path,
// so an exception never leaves one running. A writer that fails asks the whole run to
// stop (request_stop) and its error is rethrown by results().
#pragma once

#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include "scenarios/cache_model.hpp"
#include "scenarios/cache_writer.hpp"
#include "scenarios/co_runner_group.hpp"

namespace gpc::scenarios {

class CacheWriterGroup {
 public:
  // Starts one thread per entry of `pus`, writer w on model.cache(w); each waits for go().
  // `use_checker` false: plain writes through khva (--no-checker).
  // `co_runners` (running, may be null): each writer measures the co-runner on its PU inside
  // its collided waits.
  CacheWriterGroup(CacheModel& model, const std::vector<int>& pus, bool use_checker,
                   const CoRunnerGroup* co_runners = nullptr);
  ~CacheWriterGroup();  // join()
  CacheWriterGroup(const CacheWriterGroup&) = delete;
  CacheWriterGroup& operator=(const CacheWriterGroup&) = delete;

  void go() { go_.store(true, std::memory_order_release); }
  void join();  // tells the writers to stop and joins them; idempotent
  // After join(): the first writer's error, else every writer's result.
  std::vector<WriterResult> results();

 private:
  std::atomic<bool> go_{false}, stop_{false};
  std::vector<WriterResult> results_;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> threads_;
};

}  // namespace gpc::scenarios
