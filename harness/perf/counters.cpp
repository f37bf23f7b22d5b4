#include "perf/counters.hpp"

#include <perfmon/pfmlib_perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <utility>

#include "common/errors.hpp"

namespace gpc {
namespace {

// libpfm4 is initialised once per process; its encoder is serialised because libpfm4
// does not document it as thread-safe.
std::mutex pfm_mutex;

int pfm_status() {
  static const int rc = pfm_initialize();
  return rc;
}

struct Encoded {
  bool known = false;
  std::string reason;  // when !known
  perf_event_attr attr = {};
};

Encoded encode(const std::string& name, int plm) {
  std::lock_guard<std::mutex> lock(pfm_mutex);
  Encoded out;
  if (const int init = pfm_status(); init != PFM_SUCCESS) {
    out.reason = fmt::format("libpfm4 failed to initialise: {}", pfm_strerror(init));
    return out;
  }
  pfm_perf_encode_arg_t arg;
  std::memset(&arg, 0, sizeof arg);
  arg.attr = &out.attr;
  arg.size = sizeof arg;
  const int rc = pfm_get_os_event_encoding(name.c_str(), plm, PFM_OS_PERF_EVENT_EXT, &arg);
  if (rc != PFM_SUCCESS) {
    out.reason = fmt::format("libpfm4 cannot encode '{}': {}", name, pfm_strerror(rc));
    return out;
  }
  out.known = true;
  out.attr.size = sizeof(perf_event_attr);
  return out;
}

int paranoid_level() {
  std::ifstream f("/proc/sys/kernel/perf_event_paranoid");
  int v = 2;
  f >> v;
  return v;
}

long open_for_this_thread(perf_event_attr* attr, int group_fd) {
  return syscall(SYS_perf_event_open, attr, 0 /* this thread */, -1 /* any CPU */, group_fd,
                 PERF_FLAG_FD_CLOEXEC);
}

struct Opened {
  int fd = -1;
  std::string reason;  // failure, or a note on a restricted success
};

// Counts user and kernel time (the waiter's cost is largely in the kernel); if the
// paranoia level forbids kernel counting, falls back to user-only and says so.
Opened open_event(const std::string& name, int group_fd, bool leader) {
  Encoded e = encode(name, PFM_PLM0 | PFM_PLM3);
  if (!e.known) throw UsageError(e.reason + "; list names with libpfm4's showevtinfo or `perf list`");
  e.attr.disabled = leader ? 1 : 0;
  e.attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  e.attr.inherit = 0;
  Opened out;
  out.fd = static_cast<int>(open_for_this_thread(&e.attr, group_fd));
  if (out.fd >= 0) return out;
  int err = errno;
  if (err == EACCES || err == EPERM) {
    e.attr.exclude_kernel = 1;
    e.attr.exclude_hv = 1;
    out.fd = static_cast<int>(open_for_this_thread(&e.attr, group_fd));
    if (out.fd >= 0) {
      out.reason = fmt::format("user space only (kernel.perf_event_paranoid={})", paranoid_level());
      return out;
    }
    err = errno;
  }
  out.reason = describe_open_error(err, e.attr.type);
  return out;
}

}  // namespace

std::string describe_open_error(int err, uint32_t perf_type) {
  const char* name = strerrorname_np(err);
  const std::string code = name ? name : std::to_string(err);
  switch (err) {
    case ENOENT:
      if (perf_type == PERF_TYPE_HARDWARE || perf_type == PERF_TYPE_HW_CACHE)
        return "no hardware PMU driver (ENOENT); running under a hypervisor without PMU passthrough?";
      return "this kernel does not support the event (ENOENT)";
    case ENODEV:
      return "the PMU does not support this event on this CPU (ENODEV)";
    case EOPNOTSUPP:
      return "the PMU cannot count this event in this mode (EOPNOTSUPP)";
    case EACCES:
    case EPERM:
      return fmt::format("permission denied ({}): kernel.perf_event_paranoid={}; run as root or "
                         "with CAP_PERFMON",
                         code, paranoid_level());
    case ENOSYS:
      return "perf_event_open is not available: kernel built without CONFIG_PERF_EVENTS (ENOSYS)";
    case EMFILE:
      return "too many open files (EMFILE); raise `ulimit -n`";
    case EINVAL:
      return "the kernel rejected the encoding (EINVAL): unsupported attribute or group mix";
    default:
      return fmt::format("perf_event_open failed: {} ({})", std::strerror(err), code);
  }
}

ThreadCounters::ThreadCounters(const std::vector<std::string>& events) {
  try {
    for (const auto& name : events) {
      Opened o = open_event(name, leader_, leader_ < 0);
      if (o.fd >= 0 && leader_ < 0) leader_ = o.fd;
      status_.push_back({name, o.fd >= 0, o.reason});
      fds_.push_back(o.fd);
    }
  } catch (...) {
    close_all();
    throw;
  }
  int slot = 0;
  for (int fd : fds_) group_slot_.push_back(fd >= 0 ? slot++ : -1);
}

ThreadCounters::~ThreadCounters() { close_all(); }

ThreadCounters::ThreadCounters(ThreadCounters&& other) noexcept
    : status_(std::move(other.status_)),
      fds_(std::exchange(other.fds_, {})),
      group_slot_(std::move(other.group_slot_)),
      leader_(std::exchange(other.leader_, -1)) {}

ThreadCounters& ThreadCounters::operator=(ThreadCounters&& other) noexcept {
  if (this != &other) {
    close_all();
    status_ = std::move(other.status_);
    fds_ = std::exchange(other.fds_, {});
    group_slot_ = std::move(other.group_slot_);
    leader_ = std::exchange(other.leader_, -1);
  }
  return *this;
}

void ThreadCounters::close_all() {
  // Members first, leader last.
  for (int fd : fds_)
    if (fd >= 0 && fd != leader_) ::close(fd);
  if (leader_ >= 0) ::close(leader_);
  fds_.clear();
  leader_ = -1;
}

void ThreadCounters::start() {
  if (leader_ < 0) return;
  check_syscall(ioctl(leader_, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP), "PERF_EVENT_IOC_RESET");
  check_syscall(ioctl(leader_, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP), "PERF_EVENT_IOC_ENABLE");
}

void ThreadCounters::stop() {
  if (leader_ < 0) return;
  check_syscall(ioctl(leader_, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP), "PERF_EVENT_IOC_DISABLE");
}

std::vector<CounterReading> ThreadCounters::read() const {
  std::vector<CounterReading> out;
  std::vector<uint64_t> buf(3 + status_.size(), 0);  // nr, enabled, running, values...
  bool have = false;
  if (leader_ >= 0) {
    const ssize_t n = ::read(leader_, buf.data(), buf.size() * sizeof(uint64_t));
    if (n < 0) throw SystemError("read(perf group)", errno);
    have = n >= static_cast<ssize_t>(3 * sizeof(uint64_t));
  }
  const uint64_t enabled = buf[1], running = buf[2];
  for (size_t i = 0; i < status_.size(); ++i) {
    CounterReading r;
    r.name = status_[i].name;
    if (!status_[i].available) {
      r.reason = status_[i].reason;
    } else if (!have || group_slot_[i] >= static_cast<int>(buf[0])) {
      r.reason = "no value read from the counter group";
    } else if (running == 0 && enabled > 0) {
      r.reason = "never scheduled on the PMU (too many events to count at once?)";
    } else {
      r.available = true;
      r.raw = buf[3 + group_slot_[i]];
      r.running_fraction = enabled ? static_cast<double>(running) / static_cast<double>(enabled) : 1.0;
      r.value = (running > 0 && running < enabled)
                    ? static_cast<double>(r.raw) * static_cast<double>(enabled) / static_cast<double>(running)
                    : static_cast<double>(r.raw);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<double> ThreadCounters::value(const std::string& name) const {
  for (const auto& r : read())
    if (r.name == name) return r.available ? std::optional<double>(r.value) : std::nullopt;
  return std::nullopt;
}

bool ThreadCounters::all_available() const {
  for (const auto& s : status_)
    if (!s.available) return false;
  return true;
}

EventStatus probe_event(const std::string& name) {
  try {
    ThreadCounters c({name});
    return c.status().front();
  } catch (const UsageError& e) {
    return {name, false, e.what()};
  }
}

}  // namespace gpc
