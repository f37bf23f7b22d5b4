#include "pfncache/backing_table.hpp"

#include "pfncache/resolver.hpp"

namespace gpc::pfncache {

BackingTable::BackingTable(int memfd, uintptr_t base, size_t pages)
    : memfd_(memfd), base_(base), pages_(pages), table_(new std::atomic<uint64_t>[pages]) {
  for (size_t i = 0; i < pages; ++i) table_[i].store(i * kPageSize, std::memory_order_relaxed);
}

std::optional<uint64_t> BackingTable::memfd_offset_of(uintptr_t hva) const {
  if (hva < base_ || hva >= base_ + pages_ * kPageSize) return std::nullopt;
  uint64_t off = table_[(hva - base_) / kPageSize].load(std::memory_order_acquire);
  if (off == kNoFrame) return std::nullopt;
  return off;
}

void BackingTable::set(size_t page, uint64_t memfd_offset) {
  table_[page].store(memfd_offset, std::memory_order_release);
}

uint64_t BackingTable::get(size_t page) const {
  return table_[page].load(std::memory_order_acquire);
}

}  // namespace gpc::pfncache
