#include "pfncache/memfd_resolver.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errors.hpp"

namespace gpc::pfncache {

MemfdResolver::MemfdResolver(const BackingLookup& lookup) : lookup_(lookup) {
  pagemap_fd_ = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  // Probe with a page of our own: a non-zero frame number means pagemap shows them.
  static thread_local uint64_t probe = 1;
  probe += 1;
  pfns_visible_ = pfn_of(reinterpret_cast<uintptr_t>(&probe)) != 0;
}

MemfdResolver::~MemfdResolver() {
  if (pagemap_fd_ >= 0) ::close(pagemap_fd_);
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

std::optional<Frame> MemfdResolver::hva_to_pfn(uintptr_t uhva) {
  const uintptr_t page = page_of(uhva);
  auto off = lookup_.memfd_offset_of(page);
  if (!off) return std::nullopt;
  // Fault the page in, as hva_to_pfn's get_user_pages would. A read is enough for a
  // shared memfd page: it is the same page a write would see.
  (void)*reinterpret_cast<volatile const uint8_t*>(page);
  Frame f;
  f.memfd_offset = *off;
  f.pfn = pfn_of(page);
  return f;
}

void* MemfdResolver::do_map(const Frame& f) {
  void* p = ::mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, lookup_.memfd(),
                   static_cast<off_t>(f.memfd_offset));
  if (p == MAP_FAILED) return nullptr;
  (void)*static_cast<volatile const uint8_t*>(p);
  if (!pfns_visible_) {
    unverified_.fetch_add(1, std::memory_order_relaxed);
  } else if (f.pfn != 0 && pfn_of(reinterpret_cast<uintptr_t>(p)) == f.pfn) {
    verified_.fetch_add(1, std::memory_order_relaxed);
  } else {
    mismatched_.fetch_add(1, std::memory_order_relaxed);
  }
  return p;
}

void MemfdResolver::do_unmap(void* base) { ::munmap(base, kPageSize); }

PfnCheckStats MemfdResolver::pfn_checks() const {
  return {verified_.load(std::memory_order_relaxed), mismatched_.load(std::memory_order_relaxed),
          unverified_.load(std::memory_order_relaxed)};
}

}  // namespace gpc::pfncache
