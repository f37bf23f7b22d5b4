#include "scenarios/cache_writer_group.hpp"

#include <utility>

#include "common/stop.hpp"

namespace gpc::scenarios {

CacheWriterGroup::CacheWriterGroup(CacheModel& model, const std::vector<int>& pus, bool use_checker,
                                   const CoRunnerGroup* co_runners)
    : results_(pus.size()), errors_(pus.size()) {
  try {
    for (size_t w = 0; w < pus.size(); ++w) {
      WriterConfig wc;
      wc.index = static_cast<int>(w);
      wc.pu = pus[w];
      wc.checker = use_checker ? &model.checker() : nullptr;
      wc.go = &go_;
      wc.stop = &stop_;
      wc.notifier = &model.notifier();
      if (co_runners) {
        wc.co_runner = co_runners->running_on(pus[w]);
        wc.co_runner_alone_rate = co_runners->alone_rate(pus[w]);
      }
      threads_.emplace_back([this, &model, w, wc] {
        try {
          results_[w] = run_writer(model.cache(w), wc);
        } catch (...) {
          errors_[w] = std::current_exception();
          request_stop();
        }
      });
    }
  } catch (...) {
    join();  // a thread that could not start: the ones that did must not outlive this
    throw;
  }
}

CacheWriterGroup::~CacheWriterGroup() { join(); }

void CacheWriterGroup::join() {
  stop_.store(true);
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

std::vector<WriterResult> CacheWriterGroup::results() {
  for (auto& e : errors_)
    if (e) std::rethrow_exception(e);
  return std::move(results_);
}

}  // namespace gpc::scenarios
