// The real resolver at the kernel's cost. On x86-64, kmap() of a page is its address in
// the kernel's direct map (free), and hva_to_pfn() takes GUP's fast path: a page-table walk
// of a present page. The userspace stand-ins:
//   - the direct map: ONE persistent MAP_SHARED view of the whole memfd, mapped when the
//     resolver is built; map() of a frame is view + memfd offset, with no syscall;
//   - hva_to_pfn: the BackingLookup says which memfd offset backs uhva now (an atomic
//     load), and uhva is touched so the page is present, as GUP would fault it in.
// So a refresh neither mmaps nor munmaps: it takes no mmap_lock for write against the
// invalidators' mremap and shoots down no TLBs (issue 12 item 6).
//
// PFN verification stays, off the common path: every verify_every-th hva_to_pfn reads
// /proc/self/pagemap for uhva and for view + offset and compares the frames (frame
// numbers need CAP_SYS_ADMIN; without it the check counts as unverified).
#pragma once

#include <atomic>

#include "common/backing_lookup.hpp"
#include "pfncache/resolver.hpp"

namespace gpc::pfncache {

struct PfnCheckStats {
  uint64_t verified = 0;    // the view's frame == uhva's frame
  uint64_t mismatched = 0;  // they differed (uhva moved between lookup and check)
  uint64_t unverified = 0;  // pagemap shows no frame numbers (not root)
};

class MemfdResolver : public Resolver {
 public:
  // One pagemap check per 64 resolves: two pagemap reads cost ~3.5 us here (a syscall is
  // ~1.2 us on this nested, PTI-enabled guest), ~55 ns per resolve on average.
  static constexpr unsigned kDefaultVerifyEvery = 64;

  // Maps the whole memfd once. Throws SystemError if it cannot.
  explicit MemfdResolver(const BackingLookup& lookup, unsigned verify_every = kDefaultVerifyEvery);
  ~MemfdResolver() override;
  MemfdResolver(const MemfdResolver&) = delete;
  MemfdResolver& operator=(const MemfdResolver&) = delete;

  std::optional<Frame> hva_to_pfn(uintptr_t uhva) override;
  // Frame number of the page mapped at `va` (0 if unknown or not present).
  uint64_t pfn_of(uintptr_t va) const;
  bool pfns_visible() const { return pfns_visible_; }
  PfnCheckStats pfn_checks() const;
  // The persistent view: khva of memfd offset o is view() + o.
  const char* view() const { return view_; }

 protected:
  void* do_map(const Frame& f) override;
  void do_unmap(void* base) override;

 private:
  void verify(uintptr_t page, uint64_t memfd_offset, Frame* f);
  const BackingLookup& lookup_;
  const unsigned verify_every_;
  char* view_ = nullptr;
  size_t view_size_ = 0;
  int pagemap_fd_ = -1;
  bool pfns_visible_ = false;
  std::atomic<uint64_t> resolves_{0};
  std::atomic<uint64_t> verified_{0}, mismatched_{0}, unverified_{0};
};

}  // namespace gpc::pfncache
