#include "trace/perf_ring.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/errors.hpp"

namespace gpc::trace {

PerfRing::PerfRing(int fd, size_t data_pages) {
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  data_size_ = data_pages * page;
  map_size_ = data_size_ + page;
  base_ = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base_ == MAP_FAILED) {
    base_ = nullptr;
    throw SystemError("mmap(perf ring buffer)", errno);
  }
}

PerfRing::~PerfRing() {
  if (base_) ::munmap(base_, map_size_);
}

void PerfRing::drain(const RecordFn& fn) {
  auto* meta = static_cast<perf_event_mmap_page*>(base_);
  const auto* data = static_cast<const uint8_t*>(base_) + (map_size_ - data_size_);
  // n bytes from ring offset `at`, continuing at the start where the ring ends.
  auto copy_out = [&](size_t at, void* dst, size_t n) {
    const size_t first = std::min(n, data_size_ - at);
    std::memcpy(dst, data + at, first);
    std::memcpy(static_cast<uint8_t*>(dst) + first, data, n - first);
  };
  // Acquire pairs with the kernel's store of data_head after it wrote the records.
  const uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = meta->data_tail;
  while (tail < head) {
    const size_t at = tail % data_size_;
    perf_event_header header;
    copy_out(at, &header, sizeof header);
    if (header.size < sizeof header) break;  // corrupt: never loop on a zero size
    const uint8_t* record = data + at;
    if (at + header.size > data_size_) {  // wraps: copy it out whole
      scratch_.resize(header.size);
      copy_out(at, scratch_.data(), header.size);
      record = scratch_.data();
    }
    fn(header, record + sizeof header);
    tail += header.size;
  }
  // Release: the kernel may reuse the space only after we have read it.
  __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

}  // namespace gpc::trace
