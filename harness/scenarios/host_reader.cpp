#include "scenarios/host_reader.hpp"

#include <time.h>

#include <utility>

#include "common/stop.hpp"
#include "topology/pinning.hpp"
#include "scenarios/cache_page.hpp"

namespace gpc::scenarios {
namespace {

// The reader stands in for a guest: its acks race with the VMM copying guest memory
// (mremap's copy inside the bracket) by design, and the protocol tolerates it (re-ack).
// TSan would report that intended race, so the page accesses are not instrumented.
#define GPC_GUEST_MEMORY_ACCESS __attribute__((no_sanitize("thread"), noinline))

GPC_GUEST_MEMORY_ACCESS uint64_t load(uintptr_t page, size_t off) {
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(page + off), __ATOMIC_ACQUIRE);
}
GPC_GUEST_MEMORY_ACCESS void store(uintptr_t page, size_t off, uint64_t v) {
  __atomic_store_n(reinterpret_cast<uint64_t*>(page + off), v, __ATOMIC_RELEASE);
}

}  // namespace

ReaderCounts& ReaderCounts::operator+=(const ReaderCounts& o) {
  events += o.events;
  lost += o.lost;
  repeated += o.repeated;
  out_of_order += o.out_of_order;
  torn += o.torn;
  spurious += o.spurious;
  reacks += o.reacks;
  records += o.records;
  backwards += o.backwards;
  sweeps += o.sweeps;
  return *this;
}

HostReader::HostReader(std::vector<uintptr_t> pages, int pu)
    : pages_(std::move(pages)), pu_(pu), thread_([this] { loop(); }) {}

HostReader::~HostReader() { stop(); }

ReaderCounts HostReader::stop() {
  if (!joined_) {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
    joined_ = true;
  }
  if (pin_error_) std::rethrow_exception(std::exchange(pin_error_, nullptr));
  return counts_;
}

void HostReader::loop() {
  if (pu_ >= 0) {
    try {
      pin_current_thread(pu_);
    } catch (...) {
      pin_error_ = std::current_exception();
      return;
    }
  }
  std::vector<PageState> states(pages_.size());
  ReaderCounts c;
  // The last sweep runs after the stop flag, so events posted just before the end count.
  for (bool last = false; !last;) {
    last = stop_.load(std::memory_order_relaxed) || stop_requested();
    bool progress = false;
    for (size_t i = 0; i < pages_.size(); ++i) progress |= poll_page(pages_[i], states[i], c);
    ++c.sweeps;
    if (!progress && !last) {
      // A guest would halt here; 20 us keeps event latency low without owning a PU.
      const timespec ts{0, 20'000};
      nanosleep(&ts, nullptr);
    }
  }
  counts_ = c;
}

bool HostReader::poll_page(uintptr_t page, PageState& st, ReaderCounts& c) {
  using namespace cache_page;
  // The versioned record, pvclock style: an odd or changed version means "retry".
  for (int attempt = 0; attempt < 4; ++attempt) {
    const uint64_t v1 = load(page, kVersion);
    if (v1 & 1) continue;
    const uint64_t counter = load(page, kCounter);
    const uint64_t data = load(page, kData);
    const uint64_t v2 = load(page, kVersion);
    if (v1 != v2) continue;
    if (v1 == 0) break;  // not written yet
    if (!gpc_record_consistent(v1, counter, data)) {
      ++c.torn;
    } else {
      if (st.seen_record && counter < st.last_counter) ++c.backwards;
      st.last_counter = counter;
      st.seen_record = true;
      ++c.records;
    }
    break;
  }

  // Channel 0's event.
  const uint64_t pending = load(page, kPending);
  if (pending) store(page, kPending, 0);
  const uint64_t seq = load(page, kSeq);
  const uint64_t ack = load(page, kAck);
  if (seq == ack) {
    if (pending) ++c.spurious;
    return false;
  }
  uint64_t payload[GPC_EVENT_PAYLOAD_WORDS];
  for (uint32_t i = 0; i < GPC_EVENT_PAYLOAD_WORDS; ++i) payload[i] = load(page, kPayload + 8 * i);
  const uint64_t checksum = load(page, kChecksum);
  if (checksum != gpc_event_checksum(kChannel, seq, payload)) {
    ++c.torn;
  } else {
    switch (gpc_event_judge(st.last_seq, st.last_post, seq, payload[0])) {
      case GPC_EVENT_NEW:
        c.lost += seq - st.last_seq - 1;
        ++c.events;
        break;
      case GPC_EVENT_RESEEN: ++c.reacks; break;  // the same post: our ack was lost, not the writer's event
      case GPC_EVENT_REPEATED: ++c.repeated; break;
      case GPC_EVENT_OUT_OF_ORDER: ++c.out_of_order; break;
    }
  }
  if (seq >= st.last_seq) {  // the highest seq seen, as the reader guest keeps it
    st.last_seq = seq;
    st.last_post = payload[0];
  }
  store(page, kAck, seq);
  return true;
}

}  // namespace gpc::scenarios
