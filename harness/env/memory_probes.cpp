#include "env/memory_probes.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "common/errors.hpp"
#include "common/unique_fd.hpp"
#include "env/sysfs.hpp"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1
#endif

namespace gpc {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kHuge = 2u << 20;

nlohmann::json ok(const std::string& note = "") { return {{"works", true}, {"reason", note}}; }
nlohmann::json no(const std::string& reason) { return {{"works", false}, {"reason", reason}}; }


// An anonymous mapping released on scope exit.
class Mapping {
 public:
  explicit Mapping(size_t len) : len_(len) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    addr_ = p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  ~Mapping() {
    if (addr_) munmap(addr_, len_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  char* get() const { return addr_; }

 private:
  char* addr_;
  size_t len_;
};


nlohmann::json probe_memfd_and_punch_hole(nlohmann::json& punch) {
  UniqueFd fd(static_cast<int>(syscall(SYS_memfd_create, "gpcbench-probe", MFD_CLOEXEC)));
  if (fd.get() < 0) {
    punch = no("needs memfd_create, which failed");
    return no("memfd_create failed: " + errno_text(errno));
  }
  if (ftruncate(fd.get(), 2 * kPage) != 0) {
    punch = no("needs a memfd, which could not be sized");
    return no("ftruncate(memfd) failed: " + errno_text(errno));
  }
  if (pwrite(fd.get(), "x", 1, 0) != 1) {
    punch = no("needs a writable memfd");
    return no("write to memfd failed: " + errno_text(errno));
  }
  if (fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, kPage) != 0)
    punch = no("fallocate(FALLOC_FL_PUNCH_HOLE) on a memfd failed: " + errno_text(errno));
  else
    punch = ok();
  return ok();
}

nlohmann::json probe_madv_collapse() {
  // A 2 MB-aligned, fully touched anonymous region, collapsed synchronously.
  Mapping m(2 * kHuge);
  if (!m.get()) return no("mmap of 4 MB failed: " + errno_text(errno));
  char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(m.get()) + kHuge - 1) & ~(kHuge - 1));
  for (size_t off = 0; off < kHuge; off += kPage) aligned[off] = 1;
  if (madvise(aligned, kHuge, MADV_COLLAPSE) == 0) return ok();
  const int err = errno;
  utsname u = {};
  uname(&u);
  const auto [major, minor] = kernel_major_minor(u.release);
  if (err == EINVAL && (major < 6 || (major == 6 && minor < 1)))
    return no(fmt::format("MADV_COLLAPSE needs Linux >= 6.1, this is {} ({})", u.release, errno_text(err)));
  if (err == EINVAL)
    return no("MADV_COLLAPSE rejected: " + errno_text(err) +
              "; THP disabled for this process or kernel built without CONFIG_TRANSPARENT_HUGEPAGE");
  if (err == ENOMEM || err == EAGAIN)
    return no("MADV_COLLAPSE could not get a huge page: " + errno_text(err) + " (memory fragmented or low)");
  return no("MADV_COLLAPSE failed: " + errno_text(err));
}

// Reads the pagemap entry of one touched page; the PFN is visible only with CAP_SYS_ADMIN.
nlohmann::json probe_pagemap(uint64_t& pfn_out) {
  pfn_out = 0;
  Mapping m(kPage);
  if (!m.get()) return no("mmap failed: " + errno_text(errno));
  m.get()[0] = 1;
  UniqueFd fd(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return no("cannot open /proc/self/pagemap: " + errno_text(errno));
  uint64_t entry = 0;
  const off_t off = static_cast<off_t>(reinterpret_cast<uintptr_t>(m.get()) / kPage * sizeof entry);
  if (pread(fd.get(), &entry, sizeof entry, off) != static_cast<ssize_t>(sizeof entry))
    return no("cannot read /proc/self/pagemap: " + errno_text(errno));
  if (!(entry & (uint64_t{1} << 63))) return no("a touched page reads as not present in pagemap");
  pfn_out = entry & ((uint64_t{1} << 55) - 1);
  if (pfn_out == 0)
    return no("pagemap hides PFNs (reads 0) without CAP_SYS_ADMIN; run as root to verify that "
              "invalidations moved pages");
  return ok();
}

nlohmann::json probe_kpageflags(uint64_t pfn) {
  UniqueFd fd(::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT) return no("no /proc/kpageflags: kernel built without CONFIG_PROC_PAGE_MONITOR");
    if (err == EACCES || err == EPERM)
      return no("cannot open /proc/kpageflags: " + errno_text(err) + "; needs CAP_SYS_ADMIN");
    return no("cannot open /proc/kpageflags: " + errno_text(err));
  }
  uint64_t flags = 0;
  if (pread(fd.get(), &flags, sizeof flags, static_cast<off_t>(pfn * sizeof flags)) != static_cast<ssize_t>(sizeof flags))
    return no("cannot read /proc/kpageflags: " + errno_text(errno));
  return ok();
}

nlohmann::json probe_compact_memory() {
  // Only checks access; writing it would compact the whole machine's memory.
  const char* path = "/proc/sys/vm/compact_memory";
  if (access(path, F_OK) != 0) return no("no /proc/sys/vm/compact_memory: kernel built without CONFIG_COMPACTION");
  if (access(path, W_OK) != 0) return no("/proc/sys/vm/compact_memory is not writable: " + errno_text(errno) + "; run as root");
  return ok();
}

nlohmann::json probe_move_pages() {
  // move_pages with nodes=NULL only queries where pages are: proves the syscall exists
  // and is permitted without moving anything.
  Mapping m(kPage);
  if (!m.get()) return no("mmap failed: " + errno_text(errno));
  m.get()[0] = 1;
  void* pages[1] = {m.get()};
  int status[1] = {-1};
  if (syscall(SYS_move_pages, 0, 1, pages, nullptr, status, 0) != 0) {
    const int err = errno;
    if (err == ENOSYS) return no("move_pages unavailable: kernel built without CONFIG_MIGRATION/NUMA (ENOSYS)");
    return no("move_pages failed: " + errno_text(err));
  }
  return ok(fmt::format("page is on node {}", status[0]));
}

}  // namespace

bool has_cap_sys_admin() {
  TextFile status = read_text_file("/proc/self/status");
  if (!status.text) return false;
  std::istringstream in(*status.text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const uint64_t caps = std::stoull(line.substr(7), nullptr, 16);
    return (caps >> 21) & 1;  // CAP_SYS_ADMIN
  }
  return false;
}

nlohmann::json probe_memory_operations() {
  nlohmann::json out;
  nlohmann::json punch;
  out["memfd"] = probe_memfd_and_punch_hole(punch);
  out["punch_hole"] = punch;
  out["madv_collapse"] = probe_madv_collapse();
  uint64_t pfn = 0;
  out["pagemap"] = probe_pagemap(pfn);
  out["kpageflags"] = probe_kpageflags(pfn);
  out["compact_memory"] = probe_compact_memory();
  out["move_pages"] = probe_move_pages();
  return out;
}

}  // namespace gpc
