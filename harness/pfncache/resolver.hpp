// hva_to_pfn() and kmap() of the model: which page backs a user address now, and a
// "kernel" mapping of that page. Implementations: MemfdResolver (real memfd pages) and
// TestResolver (synthetic pages with sync points). Every mapping handed out is tracked, so
// an unmap of something not mapped (a double unmap after racing refreshes) is detected and
// refused instead of corrupting the address space, and leaks are countable. A page can
// be mapped more than once at the same address (like kmap of a direct-map page): each
// map() needs its own unmap().
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace gpc::pfncache {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kNoFrame = UINT64_MAX;
// KVM_HVA_ERR_BAD: PAGE_OFFSET on x86-64, the uhva of a cache that never had an address
// (kvm_gpc_init). Page-aligned, so a length check alone does not reject it.
constexpr uintptr_t kBadHva = 0xffff888000000000;

inline uint64_t offset_in_page(uintptr_t a) { return a & (kPageSize - 1); }
inline uintptr_t page_of(uintptr_t a) { return a & ~(kPageSize - 1); }

// The page found by hva_to_pfn. memfd_offset is the page's identity in the model; pfn is
// the host frame number when /proc/self/pagemap shows it (root), else 0.
struct Frame {
  uint64_t memfd_offset = kNoFrame;
  uint64_t pfn = 0;
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // The page that backs `uhva` now (faulted in), or nullopt if nothing backs it.
  virtual std::optional<Frame> hva_to_pfn(uintptr_t uhva) = 0;
  // A mapping of the frame's page (page aligned), or nullptr on failure.
  void* map(const Frame& f);
  // Releases a mapping from map(). Returns false (and counts) if it was not live.
  bool unmap(void* base);

  uint64_t live_mappings() const;  // map() calls not yet unmapped
  uint64_t bad_unmaps() const { return bad_unmaps_.load(std::memory_order_relaxed); }
  // Memfd offset mapped at `base`, kNoFrame if `base` is not a live mapping.
  uint64_t offset_of_mapping(void* base) const;

 protected:
  virtual void* do_map(const Frame& f) = 0;
  virtual void do_unmap(void* base) = 0;

 private:
  struct Live {
    uint64_t memfd_offset;
    uint64_t count;
  };
  mutable std::mutex mu_;
  std::unordered_map<void*, Live> live_;
  uint64_t live_total_ = 0;
  std::atomic<uint64_t> bad_unmaps_{0};
};

}  // namespace gpc::pfncache
