// The stand-in for the `reader` guest: a host thread that reads each writer's page through
// uhva (the address the guest's memslot maps), consumes channel-0 events with the
// event_page.h protocol and checks the versioned record. Unpinned and mostly asleep (20 us
// between empty polls), so on a small machine it does not take a PU from the writers or
// the invalidators that the placement planned.
#pragma once

#include <atomic>
#include <exception>
#include <cstdint>
#include <thread>
#include <vector>

namespace gpc::scenarios {

struct ReaderCounts {
  uint64_t events = 0;        // events accepted
  uint64_t lost = 0;          // seq jumped forward
  uint64_t repeated = 0;      // the accepted seq posted again (another post number)
  uint64_t out_of_order = 0;  // seq went backwards
  uint64_t torn = 0;          // event checksum or record data inconsistent
  uint64_t spurious = 0;      // pending bit with nothing new
  uint64_t reacks = 0;        // own ack lost (the page was swapped between ack and move): re-acked
  uint64_t records = 0;       // consistent record snapshots read
  uint64_t backwards = 0;     // record counter went backwards
  uint64_t sweeps = 0;        // passes over all pages
  uint64_t anomalies() const { return lost + repeated + out_of_order + torn + backwards; }
  ReaderCounts& operator+=(const ReaderCounts& o);
};

class HostReader {
 public:
  // `pages`: the uhva of each writer's page. Starts the thread.
  // `pu`: the OS PU the thread is pinned to; -1: unpinned.
  explicit HostReader(std::vector<uintptr_t> pages, int pu = -1);
  ~HostReader();  // stops and joins
  HostReader(const HostReader&) = delete;
  HostReader& operator=(const HostReader&) = delete;

  // Stops, joins, and returns the counts summed over all pages.
  ReaderCounts stop();

  // One poll of one page (the thread's loop body; tests drive it directly).
  struct PageState {
    uint64_t last_seq = 0, last_post = 0, last_counter = 0;
    bool seen_record = false;
  };
  static bool poll_page(uintptr_t page, PageState& st, ReaderCounts& c);

 private:
  void loop();
  std::vector<uintptr_t> pages_;
  int pu_ = -1;
  std::exception_ptr pin_error_;  // pinning failed: rethrown by stop()
  std::atomic<bool> stop_{false};
  ReaderCounts counts_;
  bool joined_ = false;
  std::thread thread_;
};

}  // namespace gpc::scenarios
