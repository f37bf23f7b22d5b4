#include "trace/probe_reader.hpp"

#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "perf/counters.hpp"

namespace gpc::trace {
namespace {

// 64 KB per ring: at 24 bytes per sample that holds ~2,700 hits, 10 ms of a function called
// 270 k times per second (a pvclock update loop reaches ~10 k/s: docs/kvm-and-guests.md).
constexpr size_t kRingPages = 16;
// Hits kept for pairing: 16 bytes each, so at most 64 MB; beyond it hits are counted lost.
constexpr size_t kMaxHits = size_t{1} << 22;

// PERF_SAMPLE_TID | PERF_SAMPLE_TIME: { u32 pid, tid; u64 time; }
struct Sample {
  uint32_t pid, tid;
  uint64_t time;
};

std::string open_failure(const ProbeSpec& spec, bool is_return, int err) {
  const std::string what = fmt::format("{} {} on {}{}", probe_kind_name(spec.kind), is_return ? "return" : "entry",
                                       spec.function, spec.offset ? fmt::format("+{:#x}", spec.offset) : "");
  if (err == ENOENT || err == EINVAL)
    return fmt::format("{}: the kernel refused it ({}): {}", what, errno_text(err),
                       spec.kind == ProbeKind::kprobe ? "no such kernel symbol, or it cannot be probed"
                                                      : "no such file, or the offset is not an instruction");
  return what + ": " + describe_open_error(err, PERF_TYPE_TRACEPOINT);
}

int open_probe(const ProbePmu& pmu, const ProbeSpec& spec, bool is_return, int cpu) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = pmu.type;
  attr.config = is_return ? (uint64_t{1} << pmu.retprobe_bit) : 0;
  attr.config1 = reinterpret_cast<uintptr_t>(spec.function.c_str());  // kprobe_func / uprobe_path
  attr.config2 = spec.offset;                                           // probe_offset
  attr.sample_period = 1;
  attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
  attr.disabled = 1;
  attr.use_clockid = 1;
  attr.clockid = CLOCK_MONOTONIC;  // comparable with steady_clock and the trace instance's "mono"
  return static_cast<int>(syscall(SYS_perf_event_open, &attr, -1 /* every task */, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

}  // namespace

ProbeSpec uprobe_of(const void* function, const std::string& label) {
  const auto addr = reinterpret_cast<uintptr_t>(function);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // "55d0c8a00000-55d0c8a9e000 r-xp 00021000 fd:00 1234   /path/to/binary"
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode >> path;
    const size_t dash = range.find('-');
    const uintptr_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    const uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (addr < start || addr >= end) continue;
    if (perms.size() < 3 || perms[2] != 'x' || path.empty() || path[0] != '/')
      throw UnavailableError(fmt::format("{} at {:#x} is not in a file-backed executable mapping", label, addr));
    return {ProbeKind::uprobe, path, addr - start + std::stoull(offset, nullptr, 16), label};
  }
  throw UnavailableError(fmt::format("{} at {:#x} is in no mapping of this process", label, addr));
}

std::unique_ptr<ProbeReader> ProbeReader::open(const ProbeSpec& spec, pid_t process, std::string& reason) {
  const ProbePmu pmu = find_probe_pmu(spec.kind);
  if (!pmu.available) {
    reason = pmu.reason;
    return nullptr;
  }
  std::unique_ptr<ProbeReader> r(new ProbeReader(spec));
  r->process_ = process;
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  for (int cpu = 0; cpu < cpus; ++cpu) {
    for (bool is_return : {false, true}) {
      const int fd = open_probe(pmu, r->spec_, is_return, cpu);
      if (fd < 0) {
        reason = open_failure(r->spec_, is_return, errno);
        return nullptr;
      }
      CpuProbe p;
      p.fd = UniqueFd(fd);
      p.ring = std::make_unique<PerfRing>(fd, kRingPages);
      p.is_return = is_return;
      r->probes_.push_back(std::move(p));
    }
  }
  return r;
}

ProbeReader::~ProbeReader() {
  try {
    stop();
  } catch (...) {  // the run reports its own failure first
  }
}

void ProbeReader::drain_all() {
  for (CpuProbe& p : probes_) {
    p.ring->drain([&](const perf_event_header& h, const uint8_t* body) {
      if (h.type == PERF_RECORD_LOST) {
        uint64_t lost[2];  // { id, lost }
        std::memcpy(lost, body, sizeof lost);
        lost_ += lost[1];
      } else if (h.type == PERF_RECORD_SAMPLE) {
        Sample s;
        std::memcpy(&s, body, sizeof s);
        if (process_ > 0 && static_cast<pid_t>(s.pid) != process_) return;
        if (hits_.size() >= kMaxHits) {
          ++lost_;
          return;
        }
        hits_.push_back({s.time, s.tid, p.is_return});
      }
    });
  }
}

void ProbeReader::start(Nanos drain_interval) {
  for (CpuProbe& p : probes_) check_syscall(ioctl(p.fd.get(), PERF_EVENT_IOC_ENABLE, 0), "PERF_EVENT_IOC_ENABLE");
  drainer_.start([this] { drain_all(); }, drain_interval);
}

void ProbeReader::stop() {
  for (CpuProbe& p : probes_) ioctl(p.fd.get(), PERF_EVENT_IOC_DISABLE, 0);
  if (drainer_.stop()) drain_all();
}

CallStats ProbeReader::result() const { return pair_calls(hits_); }

}  // namespace gpc::trace
