#include "pfncache/resolver.hpp"

namespace gpc::pfncache {

void* Resolver::map(const Frame& f) {
  void* base = do_map(f);
  if (base) {
    std::lock_guard<std::mutex> g(mu_);
    auto [it, fresh] = live_.try_emplace(base, Live{f.memfd_offset, 0});
    (void)fresh;
    ++it->second.count;
    ++live_total_;
  }
  return base;
}

bool Resolver::unmap(void* base) {
  bool last = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = live_.find(base);
    if (it == live_.end()) {
      bad_unmaps_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    --live_total_;
    last = --it->second.count == 0;
    if (last) live_.erase(it);
  }
  if (last) do_unmap(base);
  return true;
}

uint64_t Resolver::live_mappings() const {
  std::lock_guard<std::mutex> g(mu_);
  return live_total_;
}

uint64_t Resolver::offset_of_mapping(void* base) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = live_.find(base);
  return it == live_.end() ? kNoFrame : it->second.memfd_offset;
}

}  // namespace gpc::pfncache
