// A resolver for forced interleavings: frames come from a BackingLookup (usually a
// BackingTable the test edits), "mappings" are views into one private buffer per memfd
// offset (no real mmap, so tests run anywhere and fast), and each hva_to_pfn call runs
// the test's hooks before and after the lookup, where a test can park the refreshing
// thread in the unlocked window of hva_to_pfn_retry.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "common/backing_lookup.hpp"
#include "pfncache/resolver.hpp"

namespace gpc::pfncache {

class TestResolver : public Resolver {
 public:
  using Hook = std::function<void(uint64_t call, uintptr_t uhva)>;
  explicit TestResolver(const BackingLookup& lookup) : lookup_(lookup) {}

  // Install before the threads start.
  void set_before(Hook h) { before_ = std::move(h); }
  void set_after(Hook h) { after_ = std::move(h); }
  uint64_t calls() const { return calls_.load(std::memory_order_acquire); }

  std::optional<Frame> hva_to_pfn(uintptr_t uhva) override {
    const uint64_t call = calls_.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (before_) before_(call, uhva);
    std::optional<Frame> f;
    if (auto off = lookup_.memfd_offset_of(page_of(uhva))) {
      f = Frame{};
      f->memfd_offset = *off;
      f->pfn = 0x1000 + *off / kPageSize;  // synthetic, stable per page
    }
    if (after_) after_(call, uhva);
    return f;
  }

  // The bytes of the page at a memfd offset (what a mapping of it shows).
  char* page(uint64_t memfd_offset) {
    std::lock_guard<std::mutex> g(mu_);
    auto& p = pages_[memfd_offset];
    if (!p) p = std::make_unique<Page>();
    return p->bytes;
  }

 protected:
  void* do_map(const Frame& f) override { return page(f.memfd_offset); }
  void do_unmap(void*) override {}

 private:
  struct Page {
    alignas(4096) char bytes[4096] = {};
  };
  const BackingLookup& lookup_;
  Hook before_, after_;
  std::atomic<uint64_t> calls_{0};
  std::mutex mu_;
  std::map<uint64_t, std::unique_ptr<Page>> pages_;
};

}  // namespace gpc::pfncache
