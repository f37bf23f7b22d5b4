#include "memory/pagemap.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/errors.hpp"

namespace gpc {
namespace {

// Documented in Documentation/admin-guide/mm/pagemap.rst.
constexpr uint64_t kPfnMask = (uint64_t(1) << 55) - 1;
constexpr int kBitExclusive = 56;
constexpr int kBitFileShared = 61;
constexpr int kBitSwapped = 62;
constexpr int kBitPresent = 63;
constexpr int kKpfCompoundHead = 15;
constexpr int kKpfCompoundTail = 16;
constexpr int kKpfThp = 22;

// PAGEMAP_SCAN uapi (linux/fs.h since 6.7; Debian 12's headers predate it).
struct PmPageRegion {
  uint64_t start, end, categories;
};
struct PmScanArg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
      category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr uint64_t kPageIsPresent = 1u << 3;
constexpr uint64_t kPageIsHuge = 1u << 6;

bool bit(uint64_t v, int b) { return (v >> b) & 1; }

}  // namespace

Pagemap::Pagemap() {
  pagemap_ = UniqueFd(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (pagemap_.get() < 0) throw SystemError("open(/proc/self/pagemap)", errno);
  kpageflags_ = UniqueFd(open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
  // Probe with a page of our own that is certainly present.
  static thread_local volatile char probe_page[kPageSize * 2];
  volatile char* p = probe_page + (kPageSize - reinterpret_cast<uintptr_t>(probe_page) % kPageSize);
  *p = 1;
  uint64_t entry = 0;
  if (pread(pagemap_.get(), &entry, sizeof entry, static_cast<off_t>(reinterpret_cast<uintptr_t>(p) / kPageSize * 8)) ==
      sizeof entry)
    pfns_readable_ = bit(entry, kBitPresent) && (entry & kPfnMask) != 0;
  scan_works_ = read_pmd_mapped(reinterpret_cast<uintptr_t>(p)).has_value();
}

std::optional<bool> Pagemap::read_pmd_mapped(uintptr_t va) const {
  PmPageRegion region{};
  PmScanArg arg{};
  arg.size = sizeof arg;
  arg.start = align_down(va, kPageSize);
  arg.end = arg.start + kPageSize;
  arg.vec = reinterpret_cast<uintptr_t>(&region);
  arg.vec_len = 1;
  arg.category_anyof_mask = kPageIsPresent;
  arg.return_mask = kPageIsPresent | kPageIsHuge;
  const long n = ioctl(pagemap_.get(), kPagemapScan, &arg);
  if (n < 0) return std::nullopt;
  if (n == 0) return false;  // not present: certainly not PMD-mapped
  return (region.categories & kPageIsHuge) != 0;
}

PageInfo Pagemap::read(uintptr_t va, bool folio_flags) const {
  PageInfo info;
  uint64_t entry = 0;
  if (pread(pagemap_.get(), &entry, sizeof entry, static_cast<off_t>(va / kPageSize * 8)) != sizeof entry)
    throw SystemError("pread(/proc/self/pagemap)", errno);
  info.present = bit(entry, kBitPresent);
  info.swapped = bit(entry, kBitSwapped);
  info.exclusive = bit(entry, kBitExclusive);
  info.file_or_shared = bit(entry, kBitFileShared);
  if (info.present && pfns_readable_) {
    info.pfn = entry & kPfnMask;
    uint64_t flags = 0;
    if (folio_flags && kpageflags_.get() >= 0 &&
        pread(kpageflags_.get(), &flags, sizeof flags, static_cast<off_t>(*info.pfn * 8)) == sizeof flags) {
      info.compound_head = bit(flags, kKpfCompoundHead);
      info.compound_tail = bit(flags, kKpfCompoundTail);
      info.thp = bit(flags, kKpfThp);
    }
  }
  if (scan_works_) info.pmd_mapped = read_pmd_mapped(va);
  return info;
}

}  // namespace gpc
