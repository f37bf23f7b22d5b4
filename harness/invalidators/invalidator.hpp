// One real memory operation per step on guest memory (or on memory that backs no guest
// page), bracketed with MmuNotifierListener calls where the kernel's notifier would fire.
// Layer K passes no listener: the kernel's own notifier fires inside the syscall.
#pragma once

#include <atomic>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "common/mmu_notifier_listener.hpp"
#include "invalidators/content_check.hpp"
#include "memory/pagemap.hpp"
#include "memory/region.hpp"

namespace gpc {

class MemfdRegion;

enum class InvalidatorType { mremap, mmap_fixed, zap, punch_hole, thp_split, thp_collapse, migrate, compact, mprotect };
enum class Target { cache, neighbour, unrelated };

std::string_view invalidator_name(InvalidatorType type);  // "mmap-fixed", ...
std::string_view target_name(Target target);
const std::vector<InvalidatorType>& all_invalidator_types();
// "mremap,zap" -> types (duplicates kept: two threads of one type is legitimate). Throws
// UsageError naming the bad entry and every valid value.
std::vector<InvalidatorType> parse_invalidator_list(std::string_view list);
Target parse_target(std::string_view text);

struct HostRange {
  uintptr_t start = 0, end = 0;
  size_t size() const { return end - start; }
  bool operator==(const HostRange&) const = default;
};

struct InvalidatorConfig {
  Target target = Target::cache;
  // The guest page a pfn cache (or pvclock) maps; 0 = the region's first page.
  uintptr_t cache_hva = 0;
  // Bytes per operation (rounded up to pages). THP types always work on the 2 MB chunk.
  size_t range_size = 4096;
  // Time between the end of the operation and invalidate_range_end (long invalidations).
  Nanos hold{0};
  MmuNotifierListener* listener = nullptr;  // layer E's notifier model; nullptr in layer K
  // Read pagemap and compare the observed page's contents around a step (every
  // `verify_every`-th step; the others count as unverified). Verification costs several
  // syscalls per step (about halving a 15 us zap's rate here); turn it off or sample it
  // where the rate matters.
  bool verify = true;
  unsigned verify_every = 1;
  // `compact` writes /proc/sys/vm/compact_memory (compacts the whole system): only when asked.
  bool allow_compact = false;
  // Accept operations that discard the target's contents (zap on anonymous memory: the
  // page refaults zeroed). Only for users whose data is rewritten anyway, e.g. layer K's
  // pvclock page, which KVM rewrites on the next clock update.
  bool accept_content_loss = false;
  // Bytes of the observed page that other threads write while steps run (a `run cache`
  // writer's slot and record when the target is its page): left out of the content check,
  // which would otherwise count every concurrent write as lost content (content_check.hpp).
  std::vector<PageBytes> concurrently_written;
  // A word an observer outside the process's notifier reads (layer K: a guest page): step()
  // adds kStepMarkerBegin before its first access to the target (staging copies included)
  // and kStepMarkerEnd after its last, so the low 16 bits count steps in progress and any
  // change of the word means a step began or ended. Shared by all invalidators of a run.
  uint64_t* step_marker = nullptr;
};

inline constexpr uint64_t kStepMarkerBegin = (uint64_t{1} << 16) + 1;
inline constexpr uint64_t kStepMarkerEnd = (uint64_t{1} << 16) - 1;

// What one step did to the observed page (the target page; for THP types the page whose
// mapping is split or collapsed).
struct StepResult {
  HostRange range;          // the bracketed host range
  uint64_t op_ns = 0;       // the memory operation itself
  uint64_t bracket_ns = 0;  // invalidate_range_start call -> invalidate_range_end return (incl. hold)
  bool op_failed = false;   // the kernel declined this time (e.g. MADV_COLLAPSE EAGAIN)
  std::optional<uint64_t> pfn_before, pfn_after;  // nullopt: not verified (verify off, no CAP_SYS_ADMIN)
  std::optional<bool> thp_before, thp_after;
  std::optional<bool> content_preserved;
  bool verified() const { return pfn_before && pfn_after; }
  bool pfn_changed() const { return verified() && *pfn_before != *pfn_after; }
  bool thp_changed() const { return thp_before && thp_after && *thp_before != *thp_after; }
};

// The memory a step works on, fixed at preparation.
struct TargetPlan {
  GuestRegion* region = nullptr;  // the guest region, or the invalidator's scratch region
  HostRange op;                   // what the operation covers
  uintptr_t observed = 0;         // page whose PFN/THP/content is verified
  HostRange chunk;                // 2 MB-aligned chunk around `observed`
};

class Invalidator {
 public:
  virtual ~Invalidator();
  Invalidator(const Invalidator&) = delete;
  Invalidator& operator=(const Invalidator&) = delete;

  InvalidatorType type() const { return type_; }
  const InvalidatorConfig& config() const { return cfg_; }
  const TargetPlan& plan() const { return plan_; }
  // One operation: unmeasured preparation, bracket start, operation, hold, bracket end,
  // verification. Throws SystemError when a call fails unexpectedly.
  StepResult step();
  // A flag that ends a step's hold early (the runner's own stop, besides stop_requested()),
  // so a long hold never delays the end of a run. Set before the step's thread starts.
  void set_stop_flag(const std::atomic<bool>* flag) { stop_flag_ = flag; }

 protected:
  Invalidator(InvalidatorType type, GuestRegion& guest, const InvalidatorConfig& cfg);

  virtual void before_step() {}
  // The real operation; runs inside the bracket and updates the BackingLookup table there.
  // Returns false if the kernel declined (counted, not thrown).
  virtual bool operate() = 0;
  virtual void after_step() {}
  virtual HostRange bracket_range() const { return plan_.op; }

  // The memfd region the op range lives in, or nullptr for anonymous memory.
  MemfdRegion* memfd_region() const { return memfd_; }
  // Runs `fn` between range_start/range_end when a listener is attached (for extra
  // operations the kernel would also notify, e.g. re-forming a THP before a split).
  // range_end is called even when `fn` throws: a half-open range would block waiters forever.
  template <class Fn>
  void bracketed(HostRange range, Fn&& fn) {
    if (cfg_.listener) cfg_.listener->invalidate_range_start(range.start, range.end);
    try {
      fn();
    } catch (...) {
      if (cfg_.listener) cfg_.listener->invalidate_range_end(range.start, range.end);
      throw;
    }
    if (cfg_.listener) cfg_.listener->invalidate_range_end(range.start, range.end);
  }
  bool pmd_mapped(uintptr_t va) const;
  // Read-faults every page of `range` back in (a read never changes the contents).
  static void touch(HostRange range);

  InvalidatorType type_;
  InvalidatorConfig cfg_;
  std::unique_ptr<GuestRegion> scratch_;  // the `unrelated` target's own memory
  TargetPlan plan_;
  MemfdRegion* memfd_ = nullptr;  // plan_.region when it is a memfd region
  const std::atomic<bool>* stop_flag_ = nullptr;
  Pagemap pagemap_;
  std::vector<char> snapshot_;
  uint64_t steps_ = 0;
};

// Prepares an invalidator on `guest` (the scratch region for `unrelated` is its own).
// Throws UnavailableError with probe()'s reason when the type cannot run on this backing
// or machine, UsageError for a range that does not fit the region.
std::unique_ptr<Invalidator> make_invalidator(InvalidatorType type, GuestRegion& guest, const InvalidatorConfig& cfg);

struct ProbeContext {
  BackingKind backing = BackingKind::memfd;
  bool hugepage = false;       // the guest region was created with MADV_HUGEPAGE
  bool allow_compact = false;
  bool accept_content_loss = false;  // InvalidatorConfig::accept_content_loss
};
struct ProbeResult {
  bool runs_here = false;
  std::string reason;  // empty when it runs
};
// The one truth `gpcbench info`, scenarios and make_invalidator share.
ProbeResult probe(InvalidatorType type, Target target, const ProbeContext& ctx);

// Backing of the scratch region an `unrelated` target uses for `type`.
BackingKind scratch_backing(InvalidatorType type, BackingKind guest);

}  // namespace gpc
