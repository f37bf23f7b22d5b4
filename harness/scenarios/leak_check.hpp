// "Nothing leaked" (BRIEF §6) for one run: file descriptors and memfd mappings of this
// process before setup and after teardown. Anonymous mappings are not compared: glibc keeps
// the stacks of joined threads and per-thread malloc arenas mapped for reuse, so their
// count grows on a first run without anything leaking. Every mapping the scenario itself
// makes (guest memory, khva views, staging pages) is a memfd mapping.
#pragma once

#include <cstdint>
#include <string>

namespace gpc::scenarios {

struct ResourceCount {
  int64_t fds = 0;             // entries of /proc/self/fd
  int64_t memfd_mappings = 0;  // lines of /proc/self/maps naming a memfd
};

ResourceCount count_resources();

struct LeakReport {
  ResourceCount before, after;
  int64_t leaked_fds() const { return after.fds > before.fds ? after.fds - before.fds : 0; }
  int64_t leaked_mappings() const {
    return after.memfd_mappings > before.memfd_mappings ? after.memfd_mappings - before.memfd_mappings : 0;
  }
  uint64_t violations() const { return static_cast<uint64_t>(leaked_fds() + leaked_mappings()); }
  std::string describe() const;  // "fds 5->5, memfd mappings 0->0"
};

}  // namespace gpc::scenarios
