#include "pfncache/resolver.hpp"

namespace gpc::pfncache {

void* Resolver::map(const Frame& f) {
  void* base = do_map(f);
  if (base) {
    std::lock_guard<std::mutex> g(mu_);
    live_[base] = f.memfd_offset;
  }
  return base;
}

bool Resolver::unmap(void* base) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (live_.erase(base) == 0) {
      bad_unmaps_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  do_unmap(base);
  return true;
}

uint64_t Resolver::live_mappings() const {
  std::lock_guard<std::mutex> g(mu_);
  return live_.size();
}

uint64_t Resolver::offset_of_mapping(void* base) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = live_.find(base);
  return it == live_.end() ? kNoFrame : it->second;
}

}  // namespace gpc::pfncache
