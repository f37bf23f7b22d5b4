#include "invalidators/content_check.hpp"

#include <algorithm>
#include <cstring>

namespace gpc {

bool same_content_outside(const void* before, const void* after, size_t size, const std::vector<PageBytes>& skip) {
  std::vector<PageBytes> ranges = skip;
  std::sort(ranges.begin(), ranges.end(), [](const PageBytes& a, const PageBytes& b) { return a.offset < b.offset; });
  const auto* a = static_cast<const unsigned char*>(before);
  const auto* b = static_cast<const unsigned char*>(after);
  size_t at = 0;  // first byte not yet compared or skipped
  for (const PageBytes& r : ranges) {
    const size_t start = std::min(r.offset, size);
    if (start > at && std::memcmp(a + at, b + at, start - at) != 0) return false;
    at = std::max(at, std::min(size, r.offset + r.length));
  }
  return at >= size || std::memcmp(a + at, b + at, size - at) == 0;
}

}  // namespace gpc
