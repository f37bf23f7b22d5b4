#include "scenarios/cache_writer.hpp"

#include <time.h>

#include <chrono>
#include <thread>

#include "common/stop.hpp"
#include "perf/counters.hpp"
#include "scenarios/cache_page.hpp"
#include "topology/pinning.hpp"

namespace gpc::scenarios {
namespace {

using pfncache::Access;
using Steady = std::chrono::steady_clock;

// Orders the writer's stores (and its seq/ack loads) as the protocol needs. The reader sees
// the page through another mapping (uhva), so only the hardware order matters: x86 (TSO)
// keeps stores in order and loads in order, and this stops the compiler reordering them.
// (std::atomic_thread_fence would do the same but TSan builds reject it.)
inline void protocol_barrier() { asm volatile("" ::: "memory"); }

uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Accesses through khva. The caller holds the read lock and check() passed.
class KhvaAccess {
 public:
  KhvaAccess(pfncache::Gpc& gpc, pfncache::ContractChecker* checker, WriterResult& r)
      : gpc_(gpc), checker_(checker), r_(r) {}

  void write(size_t off, uint64_t v) {
    if (checker_) {
      if (checker_->write_u64(gpc_, off, v) == Access::kNullKhva) ++r_.null_skips;
      return;
    }
    __atomic_store_n(reinterpret_cast<uint64_t*>(gpc_.khva() + off), v, __ATOMIC_RELAXED);
  }
  uint64_t read(size_t off) {
    uint64_t v = 0;
    if (checker_) {
      if (checker_->read_u64(gpc_, off, &v) == Access::kNullKhva) ++r_.null_skips;
      return v;
    }
    return __atomic_load_n(reinterpret_cast<const uint64_t*>(gpc_.khva() + off), __ATOMIC_RELAXED);
  }

 private:
  pfncache::Gpc& gpc_;
  pfncache::ContractChecker* checker_;
  WriterResult& r_;
};

class Writer {
 public:
  Writer(pfncache::Gpc& gpc, const WriterConfig& cfg, WriterResult& r)
      : gpc_(gpc), io_(gpc, cfg.checker, r), r_(r) {}

  // One use of a valid cache: the record on every pass, an event when the last one was acked.
  void use() {
    using namespace cache_page;
    ++counter_;
    io_.write(kVersion, 2 * counter_ + 1);
    protocol_barrier();
    io_.write(kCounter, counter_);
    io_.write(kData, gpc_record_data(counter_));
    protocol_barrier();
    io_.write(kVersion, 2 * counter_ + 2);
    ++r_.iterations;

    const uint64_t seq = io_.read(kSeq);
    const uint64_t ack = io_.read(kAck);
    protocol_barrier();
    if (seq != ack) return;  // the reader has not consumed the last event yet
    if (seq < last_posted_) ++r_.page_behind;
    const uint64_t next = seq + 1;
    ++post_;
    uint64_t payload[GPC_EVENT_PAYLOAD_WORDS];
    for (uint32_t i = 0; i < GPC_EVENT_PAYLOAD_WORDS; ++i) {
      payload[i] = payload_word(next, post_, i);
      io_.write(kPayload + 8 * i, payload[i]);
    }
    io_.write(kChecksum, gpc_event_checksum(kChannel, next, payload));
    protocol_barrier();
    io_.write(kSeq, next);
    protocol_barrier();
    io_.write(kPending, 1);
    last_posted_ = next;
    ++r_.posts;
  }

 private:
  pfncache::Gpc& gpc_;
  KhvaAccess io_;
  WriterResult& r_;
  uint64_t counter_ = 0, post_ = 0, last_posted_ = 0;
};

}  // namespace

WriterResult run_writer(pfncache::Gpc& gpc, const WriterConfig& cfg) {
  WriterResult r;
  r.index = cfg.index;
  r.pu = cfg.pu >= 0 ? pin_current_thread(cfg.pu) : -1;
  ThreadCounters perf({"task-clock", "context-switches", "cycles"});
  Writer writer(gpc, cfg, r);
  const size_t len = pfncache::kPageSize;
  auto should_stop = [&] { return cfg.stop->load(std::memory_order_relaxed) || stop_requested(); };
  auto corunner_units = [&] { return cfg.co_runner ? cfg.co_runner->units() : uint64_t{0}; };
  r.split.corunner_alone_rate = cfg.co_runner ? cfg.co_runner_alone_rate : 0;

  // Without a start signal the writer would measure setup, not the run.
  while (!cfg.go->load(std::memory_order_acquire) && !should_stop()) std::this_thread::yield();
  perf.start();
  const ThreadSched sched_before = sample_thread_sched();
  const auto t_begin = Steady::now();
  while (!should_stop()) {
    auto g = gpc.read_lock();
    if (!g) break;
    if (gpc.check(len)) {
      writer.use();
      continue;
    }
    // Collided or not is decided here first, at the failed check (collision_split.hpp).
    const bool active_at_check = cfg.notifier && cfg.notifier->active_count() > 0;
    g.unlock();
    // The wait a kernel user of the cache sees: from the failed check to a check that passes.
    const auto t0 = Steady::now();
    const uint64_t cpu0 = thread_cpu_ns();
    const pfncache::GpcStats stats0 = gpc.stats();
    const uint64_t units0 = corunner_units();
    bool valid = false;
    while (!valid && !should_stop()) {
      const pfncache::RefreshResult res = gpc.refresh(len);
      if (res == pfncache::RefreshResult::kStopped) break;
      if (res == pfncache::RefreshResult::kTimedOut) {
        ++r.timeouts;
        continue;
      }
      if (res != pfncache::RefreshResult::kOk) {
        ++r.failures;
        std::this_thread::yield();  // a failing refresh must not become a hot loop
        continue;
      }
      auto g2 = gpc.read_lock();
      if (!g2) break;
      if (!gpc.check(len)) {
        ++r.rechecks;
        continue;
      }
      valid = true;
      const auto latency = static_cast<uint64_t>((Steady::now() - t0).count());
      const uint64_t cpu = thread_cpu_ns() - cpu0;
      r.latency.record(latency);
      r.wait_cpu_ns += cpu;
      r.split.record(latency, cpu, wait_collided(active_at_check, stats0, gpc.stats()), corunner_units() - units0);
      ++r.waits;
      writer.use();
    }
  }
  r.seconds = std::chrono::duration<double>(Steady::now() - t_begin).count();
  r.sched = sched_delta(sched_before, sample_thread_sched(), r.seconds * 1e9);
  perf.stop();
  if (auto v = perf.value("task-clock")) r.task_clock_ns = *v;
  if (auto v = perf.value("context-switches")) r.context_switches = *v;
  if (auto v = perf.value("cycles")) r.cycles = *v;
  for (const EventStatus& st : perf.status())
    if (st.name == "cycles" && !st.available) r.cycles_reason = st.reason;
  return r;
}

}  // namespace gpc::scenarios
