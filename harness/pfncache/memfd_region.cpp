#include "pfncache/memfd_region.hpp"

#include <cstring>

#include <sys/mman.h>
#include <unistd.h>

#include "common/errors.hpp"

namespace gpc::pfncache {
namespace {

int make_memfd(size_t pages, size_t spares) {
  if (pages == 0 || spares == 0)
    throw UsageError("MemfdRegion needs at least one guest page and one spare page");
  int fd = static_cast<int>(check_syscall(::memfd_create("gpc-pfncache-guest", MFD_CLOEXEC),
                                          "memfd_create"));
  if (::ftruncate(fd, static_cast<off_t>((pages + spares) * 4096)) < 0) {
    int err = errno;
    ::close(fd);
    throw SystemError("ftruncate(memfd)", err);
  }
  return fd;
}

// Maps the guest pages; closes the memfd if that fails, since no destructor will run.
uintptr_t map_guest(int fd, size_t pages) {
  void* p = ::mmap(nullptr, pages * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    throw SystemError("mmap(guest memfd)", err);
  }
  std::memset(p, 0, pages * 4096);
  return reinterpret_cast<uintptr_t>(p);
}

}  // namespace

MemfdRegion::MemfdRegion(size_t pages, size_t spares)
    : fd_(make_memfd(pages, spares)),
      pages_(pages),
      base_(map_guest(fd_, pages)),
      table_(fd_, base_, pages) {
  for (size_t s = 0; s < spares; ++s) spare_offsets_.push_back((pages + s) * 4096);
}

MemfdRegion::~MemfdRegion() {
  ::munmap(reinterpret_cast<void*>(base_), pages_ * 4096);
  ::close(fd_);
}

void MemfdRegion::move_spare_onto(size_t i) {
  std::lock_guard<std::mutex> g(swap_mu_);
  const uint64_t spare = spare_offsets_.front();
  spare_offsets_.erase(spare_offsets_.begin());
  void* tmp = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_,
                     static_cast<off_t>(spare));
  if (tmp == MAP_FAILED) throw SystemError("mmap(spare page)", errno);
  std::memcpy(tmp, reinterpret_cast<void*>(page_hva(i)), 4096);
  void* at = ::mremap(tmp, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED,
                      reinterpret_cast<void*>(page_hva(i)));
  if (at == MAP_FAILED) {
    int err = errno;
    ::munmap(tmp, 4096);
    throw SystemError("mremap(MREMAP_FIXED spare onto guest page)", err);
  }
  const uint64_t old = table_.get(i);
  table_.set(i, spare);
  spare_offsets_.push_back(old);
}

}  // namespace gpc::pfncache
