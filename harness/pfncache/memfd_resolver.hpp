// The real resolver: hva_to_pfn() asks the BackingLookup which memfd offset backs uhva
// now, touches uhva so the page is present, and reads its frame number from
// /proc/self/pagemap (frame numbers need CAP_SYS_ADMIN; without it they read as 0 and the
// frame is reported "unverified"). map() is the userspace kmap(): a second MAP_SHARED
// mapping of that memfd offset, so writes through khva land in the page uhva shows.
#pragma once

#include <atomic>

#include "common/backing_lookup.hpp"
#include "pfncache/resolver.hpp"

namespace gpc::pfncache {

struct PfnCheckStats {
  uint64_t verified = 0;    // khva's frame == uhva's frame at map time
  uint64_t mismatched = 0;  // they differed (uhva moved between lookup and map)
  uint64_t unverified = 0;  // pagemap shows no frame numbers (not root)
};

class MemfdResolver : public Resolver {
 public:
  explicit MemfdResolver(const BackingLookup& lookup);
  ~MemfdResolver() override;
  MemfdResolver(const MemfdResolver&) = delete;
  MemfdResolver& operator=(const MemfdResolver&) = delete;

  std::optional<Frame> hva_to_pfn(uintptr_t uhva) override;
  // Frame number of the page mapped at `va` (0 if unknown or not present).
  uint64_t pfn_of(uintptr_t va) const;
  bool pfns_visible() const { return pfns_visible_; }
  PfnCheckStats pfn_checks() const;

 protected:
  void* do_map(const Frame& f) override;
  void do_unmap(void* base) override;

 private:
  const BackingLookup& lookup_;
  int pagemap_fd_ = -1;
  bool pfns_visible_ = false;
  std::atomic<uint64_t> verified_{0}, mismatched_{0}, unverified_{0};
};

}  // namespace gpc::pfncache
