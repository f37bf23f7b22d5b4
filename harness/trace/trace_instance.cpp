#include "trace/trace_instance.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "trace/tracefs_root.hpp"
#include "trace/tracefs_shim.h"

namespace gpc::trace {
namespace {

// 0 or the errno of writing `value` to `path` (tracefs files take one write each).
int write_file(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The pid in "gpcbench-<pid>-<n>", or -1 when the name is not one of ours.
pid_t owner_of(std::string_view name) {
  const std::string_view prefix = kInstancePrefix;
  if (name.substr(0, prefix.size()) != prefix) return -1;
  name.remove_prefix(prefix.size());
  const size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash == 0) return -1;
  pid_t pid = 0;
  for (char c : name.substr(0, dash)) {
    if (c < '0' || c > '9') return -1;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

std::vector<std::string> tasks_of(pid_t pid) {
  std::vector<std::string> out;
  DIR* d = ::opendir(fmt::format("/proc/{}/task", pid).c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

// rmdir of an instance fails with EBUSY while a file of it is still open (a reader that
// just closed its trace_pipe_raw may hold it for a moment): retry for up to a second.
int rmdir_instance(const std::string& dir) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY) return errno;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return EBUSY;
}

}  // namespace

int remove_stale_instances(const std::string& tracefs_path) {
  const std::string dir = tracefs_path + "/instances";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    const pid_t owner = owner_of(e->d_name);
    if (owner > 0 && !alive(owner)) stale.emplace_back(e->d_name);
  }
  ::closedir(d);
  int removed = 0;
  for (const auto& name : stale) removed += rmdir_instance(dir + "/" + name) == 0 ? 1 : 0;
  return removed;
}

bool instance_exists(const std::string& tracefs_path, const std::string& name) {
  return exists(tracefs_path + "/instances/" + name);
}

std::unique_ptr<TraceInstance> TraceInstance::create(const TracefsRoot& root, const InstanceOptions& options) {
  static std::atomic<int> sequence{0};
  remove_stale_instances(root.path());
  std::unique_ptr<TraceInstance> t(new TraceInstance());
  t->tracefs_path_ = root.path();
  t->name_ = fmt::format("{}{}-{}", kInstancePrefix, ::getpid(), sequence++);
  const std::string dir = root.path() + "/instances/" + t->name_;
  if (::mkdir(dir.c_str(), 0750) != 0)
    throw UnavailableError(fmt::format("cannot create the tracefs instance {}: {}{}", dir, errno_text(errno),
                                       errno == EACCES || errno == EPERM ? "; run as root" : ""));
  t->dir_ = dir;  // from here on the destructor removes it
  t->handle_ = gpc_tracefs_instance_alloc(root.path().c_str(), t->name_.c_str());
  if (!t->handle_) throw UnavailableError("libtracefs cannot open the instance " + t->dir_);
  t->write("tracing_on", "0", "stop tracing while configuring");
  t->write("trace_clock", options.clock, "set the trace clock");
  t->write("buffer_size_kb", std::to_string(options.buffer_kb_per_cpu), "size the ring buffer");
  if (!options.processes.empty()) {
    t->write("options/event-fork", "1", "follow new threads and children");
    std::string pids;
    for (pid_t p : options.processes)
      for (const std::string& tid : tasks_of(p)) pids += tid + " ";
    t->write("set_event_pid", pids, "filter events to the run's process");
  }
  return t;
}

TraceInstance::~TraceInstance() { remove(); }

void TraceInstance::remove() {
  if (dir_.empty()) return;
  write_file(dir_ + "/tracing_on", "0");
  if (handle_) gpc_tracefs_instance_free(handle_);
  handle_ = nullptr;
  rmdir_instance(dir_);  // nothing to report from a destructor; a leftover is swept later
  dir_.clear();
}

void TraceInstance::write(const std::string& file, const std::string& value, const char* what) {
  if (const int err = write_file(dir_ + "/" + file, value); err != 0)
    throw UnavailableError(fmt::format("tracefs instance {}: cannot {} ({} <- '{}'): {}", name_, what, file, value,
                                       errno_text(err)));
}

void TraceInstance::enable_event(const std::string& system, const std::string& event, const std::string& filter) {
  const std::string base = fmt::format("events/{}/{}", system, event);
  if (!exists(dir_ + "/" + base + "/enable")) {
    const bool no_system = !exists(dir_ + "/events/" + system);
    throw UnavailableError(fmt::format("{}:{}: no such event here{}", system, event,
                                       no_system ? fmt::format(" (no '{}' events: is the {} module loaded?)", system,
                                                               system)
                                                 : ""));
  }
  if (!filter.empty()) write(base + "/filter", filter, "set the event filter");
  write(base + "/enable", "1", "enable the event");
}

void TraceInstance::start() { write("tracing_on", "1", "start tracing"); }
void TraceInstance::stop() { write("tracing_on", "0", "stop tracing"); }

uint64_t TraceInstance::lost_events() const {
  uint64_t lost = 0;
  const long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
  for (long cpu = 0; cpu < cpus; ++cpu) {
    std::ifstream in(fmt::format("{}/per_cpu/cpu{}/stats", dir_, cpu));
    std::string line;
    while (std::getline(in, line)) {
      for (const char* key : {"overrun: ", "dropped events: "})
        if (line.rfind(key, 0) == 0) lost += std::stoull(line.substr(std::strlen(key)));
    }
  }
  return lost;
}

}  // namespace gpc::trace
