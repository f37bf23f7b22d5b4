// The mmap'ed ring buffer of one perf event (perf_event_open(2), "MMAP layout"): the
// kernel writes records at data_head, we read from data_tail and hand the space back by
// storing data_tail. A record that wraps around the end is copied out whole.
#pragma once

#include <linux/perf_event.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace gpc::trace {

class PerfRing {
 public:
  // Maps 1 + `data_pages` pages of `fd` (data_pages a power of two). Throws SystemError.
  PerfRing(int fd, size_t data_pages);
  ~PerfRing();
  PerfRing(const PerfRing&) = delete;
  PerfRing& operator=(const PerfRing&) = delete;

  // Calls `fn` for every complete record written since the last drain, oldest first.
  // `body` points at the record's bytes after its header.
  using RecordFn = std::function<void(const perf_event_header& header, const uint8_t* body)>;
  void drain(const RecordFn& fn);

 private:
  void* base_ = nullptr;
  size_t map_size_ = 0;
  size_t data_size_ = 0;
  std::vector<uint8_t> scratch_;  // a wrapped record, copied contiguous
};

}  // namespace gpc::trace
