#include "memory/region.hpp"

#include <sys/mman.h>

#include <string>

#include "common/errors.hpp"
#include "memory/mapping.hpp"

namespace gpc {

std::string_view backing_name(BackingKind kind) {
  return kind == BackingKind::anonymous ? "anon" : "memfd";
}

BackingKind parse_backing(std::string_view text) {
  if (text == "anon" || text == "anonymous") return BackingKind::anonymous;
  if (text == "memfd") return BackingKind::memfd;
  throw UsageError("unknown backing '" + std::string(text) + "': valid values are anon, memfd");
}

Mapping reserve_aligned(size_t len, size_t align) {
  // Over-reserve by `align`, then trim both ends so the kept part starts aligned.
  const size_t total = len + align;
  void* raw = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) throw SystemError("mmap(reserve " + std::to_string(total) + " bytes)", errno);
  const uintptr_t base = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t start = align_up(base, align);
  if (start > base) munmap(raw, start - base);
  const uintptr_t end = start + len;
  if (base + total > end) munmap(reinterpret_cast<void*>(end), base + total - end);
  return Mapping(reinterpret_cast<void*>(start), len);
}

}  // namespace gpc
