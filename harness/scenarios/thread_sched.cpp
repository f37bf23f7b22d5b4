#include "scenarios/thread_sched.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace gpc::scenarios {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ThreadSched parse_thread_sched(const std::string& schedstat, const std::string& status) {
  ThreadSched t;
  std::istringstream ss(schedstat);
  uint64_t slices = 0;
  if (!(ss >> t.run_ns >> t.runqueue_wait_ns >> slices)) return ThreadSched{};
  const std::string key = "nonvoluntary_ctxt_switches:";
  const size_t at = status.find(key);
  if (at == std::string::npos) return ThreadSched{};
  std::istringstream vs(status.substr(at + key.size()));
  if (!(vs >> t.nonvoluntary_switches)) return ThreadSched{};
  t.ok = true;
  return t;
}

ThreadSched sample_thread_sched() {
  const std::string dir = "/proc/self/task/" + std::to_string(static_cast<long>(syscall(SYS_gettid)));
  return parse_thread_sched(read_text(dir + "/schedstat"), read_text(dir + "/status"));
}

ThreadSchedDelta sched_delta(const ThreadSched& before, const ThreadSched& after, double wall_ns) {
  ThreadSchedDelta d;
  if (!before.ok || !after.ok || wall_ns <= 0) return d;
  d.ok = true;
  d.runqueue_wait_share = static_cast<double>(after.runqueue_wait_ns - before.runqueue_wait_ns) / wall_ns;
  d.nonvoluntary_per_s =
      static_cast<double>(after.nonvoluntary_switches - before.nonvoluntary_switches) / (wall_ns / 1e9);
  return d;
}

}  // namespace gpc::scenarios
