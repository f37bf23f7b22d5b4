#include "pfncache/memfd_resolver.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errors.hpp"
#include "common/fault_in.hpp"

namespace gpc::pfncache {

MemfdResolver::MemfdResolver(const BackingLookup& lookup, unsigned verify_every)
    : lookup_(lookup), verify_every_(verify_every == 0 ? 1 : verify_every) {
  struct stat st = {};
  if (::fstat(lookup_.memfd(), &st) != 0) throw SystemError("fstat(guest memfd)", errno);
  view_size_ = static_cast<size_t>(st.st_size);
  // Populated: the kernel's direct map has every page present. A page the invalidators
  // free (punch-hole, zap) refaults on its next map() (a minor fault the kernel does not take).
  void* p = ::mmap(nullptr, view_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, lookup_.memfd(), 0);
  if (p == MAP_FAILED) throw SystemError("mmap(whole guest memfd, the resolver's view)", errno);
  view_ = static_cast<char*>(p);
  pagemap_fd_ = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  // Probe with a page of our own: a non-zero frame number means pagemap shows them.
  static thread_local uint64_t probe = 1;
  probe += 1;
  pfns_visible_ = pfn_of(reinterpret_cast<uintptr_t>(&probe)) != 0;
}

MemfdResolver::~MemfdResolver() {
  if (pagemap_fd_ >= 0) ::close(pagemap_fd_);
  if (view_) ::munmap(view_, view_size_);
}

uint64_t MemfdResolver::pfn_of(uintptr_t va) const {
  if (pagemap_fd_ < 0) return 0;
  uint64_t entry = 0;
  const off_t at = static_cast<off_t>(va / kPageSize * sizeof(entry));
  if (::pread(pagemap_fd_, &entry, sizeof(entry), at) != static_cast<ssize_t>(sizeof(entry)))
    return 0;
  constexpr uint64_t kPresent = 1ull << 63;
  constexpr uint64_t kPfnMask = (1ull << 55) - 1;
  return (entry & kPresent) ? (entry & kPfnMask) : 0;
}

void MemfdResolver::verify(uintptr_t page, uint64_t memfd_offset, Frame* f) {
  if (!pfns_visible_) {
    unverified_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const char* khva = view_ + memfd_offset;
  fault_in(khva);  // present in the view too
  f->pfn = pfn_of(page);
  if (f->pfn != 0 && pfn_of(reinterpret_cast<uintptr_t>(khva)) == f->pfn)
    verified_.fetch_add(1, std::memory_order_relaxed);
  else
    mismatched_.fetch_add(1, std::memory_order_relaxed);
}

std::optional<Frame> MemfdResolver::hva_to_pfn(uintptr_t uhva) {
  const uintptr_t page = page_of(uhva);
  auto off = lookup_.memfd_offset_of(page);
  if (!off || *off + kPageSize > view_size_) return std::nullopt;
  // Fault the page in, as hva_to_pfn's get_user_pages would. A read is enough for a
  // shared memfd page: it is the same page a write would see.
  fault_in(reinterpret_cast<const void*>(page));
  Frame f;
  f.memfd_offset = *off;
  if (resolves_.fetch_add(1, std::memory_order_relaxed) % verify_every_ == 0) verify(page, *off, &f);
  return f;
}

void* MemfdResolver::do_map(const Frame& f) {
  if (f.memfd_offset + kPageSize > view_size_) return nullptr;
  char* khva = view_ + f.memfd_offset;
  fault_in(khva);  // refault a page freed since
  return khva;
}

void MemfdResolver::do_unmap(void*) {}  // kunmap() of a direct-map page: nothing to do

PfnCheckStats MemfdResolver::pfn_checks() const {
  return {verified_.load(std::memory_order_relaxed), mismatched_.load(std::memory_order_relaxed),
          unverified_.load(std::memory_order_relaxed)};
}

}  // namespace gpc::pfncache
