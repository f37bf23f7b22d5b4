// The step protocol every invalidator shares, and target planning.
#include "invalidators/invalidator.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>

#include "common/errors.hpp"
#include "common/fault_in.hpp"
#include "invalidators/hold.hpp"
#include "memory/anon_region.hpp"
#include "memory/memfd_region.hpp"

namespace gpc {
namespace {

using Clock = std::chrono::steady_clock;

bool is_thp_type(InvalidatorType t) { return t == InvalidatorType::thp_split || t == InvalidatorType::thp_collapse; }

uint64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return static_cast<uint64_t>(std::chrono::duration_cast<Nanos>(b - a).count());
}

std::unique_ptr<GuestRegion> make_scratch(InvalidatorType type, const GuestRegion& guest, size_t range) {
  RegionOptions opt;
  opt.size = align_up(std::max(range, kHugePageSize), kHugePageSize);
  opt.hugepage = is_thp_type(type);
  opt.numa_node = guest.options().numa_node;
  opt.spare_pages = range / kPageSize;
  if (scratch_backing(type, guest.kind()) == BackingKind::memfd) return std::make_unique<MemfdRegion>(opt);
  return std::make_unique<AnonRegion>(opt);
}

}  // namespace

Invalidator::Invalidator(InvalidatorType type, GuestRegion& guest, const InvalidatorConfig& cfg)
    : type_(type), cfg_(cfg) {
  cfg_.range_size = align_up(std::max<size_t>(cfg.range_size, kPageSize), kPageSize);
  const size_t range = cfg_.range_size;
  const uintptr_t cache = align_down(cfg.cache_hva ? cfg.cache_hva : guest.hva(), kPageSize);
  if (!guest.contains(cache))
    throw UsageError(fmt::format("cache page {:#x} is outside the guest region [{:#x}, {:#x})", cache, guest.hva(),
                                 guest.hva() + guest.size()));

  plan_.region = &guest;
  switch (cfg.target) {
    case Target::cache:
      plan_.observed = cache;
      break;
    case Target::neighbour: {
      // Another page of the same 2 MB chunk, in the half that does not hold the cache page,
      // so a multi-page range never covers the cache page itself.
      const size_t half = kHugePageSize / 2;
      if (range > half)
        throw UsageError(fmt::format("--range-size {} is too large for --target neighbour (at most {} bytes: the "
                                     "range must stay in the cache page's 2 MB chunk without covering it)",
                                     range, half));
      const uintptr_t chunk = align_down(cache, kHugePageSize);
      plan_.observed = chunk + (cache - chunk < half ? half : 0);
      break;
    }
    case Target::unrelated:
      scratch_ = make_scratch(type, guest, range);
      plan_.region = scratch_.get();
      plan_.observed = scratch_->hva();
      break;
  }
  plan_.op = {plan_.observed, plan_.observed + range};
  plan_.chunk = {align_down(plan_.observed, kHugePageSize), align_down(plan_.observed, kHugePageSize) + kHugePageSize};
  if (!plan_.region->contains(plan_.op.start, range))
    throw UsageError(fmt::format("{} target range [{:#x}, {:#x}) ({} bytes) does not fit in the {}-byte region; "
                                 "use a smaller --range-size or a larger region",
                                 target_name(cfg.target), plan_.op.start, plan_.op.end, range, plan_.region->size()));
  if (is_thp_type(type) && !plan_.region->contains(plan_.chunk.start, kHugePageSize))
    throw UsageError(fmt::format("{} needs the whole 2 MB chunk [{:#x}, {:#x}) inside the region",
                                 invalidator_name(type), plan_.chunk.start, plan_.chunk.end));
  memfd_ = dynamic_cast<MemfdRegion*>(plan_.region);
  snapshot_.resize(kPageSize);
}

Invalidator::~Invalidator() = default;

bool Invalidator::pmd_mapped(uintptr_t va) const { return pagemap_.read(va, false).pmd_mapped.value_or(false); }

void Invalidator::touch(HostRange range) {
  for (uintptr_t p = range.start; p < range.end; p += kPageSize) fault_in(reinterpret_cast<const void*>(p));
}

namespace {

// Announces a step in InvalidatorConfig::step_marker for its whole duration, also when it
// throws. Sequentially consistent RMWs: the begin is visible before the step reads or
// changes the target, the end only after its last access.
class StepMarkerScope {
 public:
  explicit StepMarkerScope(uint64_t* word) : word_(word) {
    if (word_) std::atomic_ref<uint64_t>(*word_).fetch_add(kStepMarkerBegin);
  }
  ~StepMarkerScope() {
    if (word_) std::atomic_ref<uint64_t>(*word_).fetch_add(kStepMarkerEnd);
  }
  StepMarkerScope(const StepMarkerScope&) = delete;
  StepMarkerScope& operator=(const StepMarkerScope&) = delete;

 private:
  uint64_t* word_;
};

}  // namespace

StepResult Invalidator::step() {
  const StepMarkerScope marker(cfg_.step_marker);
  before_step();
  StepResult r;
  r.range = bracket_range();
  const auto* observed = reinterpret_cast<const char*>(plan_.observed);
  const bool verify = cfg_.verify && cfg_.verify_every > 0 && steps_++ % cfg_.verify_every == 0;
  if (verify) {
    const PageInfo before = pagemap_.read(plan_.observed, !pagemap_.pmd_mapping_readable());
    r.pfn_before = before.pfn;
    r.thp_before = before.huge();
    std::memcpy(snapshot_.data(), observed, kPageSize);
  }

  MmuNotifierListener* const listener = cfg_.listener;
  const auto t0 = Clock::now();
  if (listener) listener->invalidate_range_start(r.range.start, r.range.end);
  const auto t1 = Clock::now();
  try {
    r.op_failed = !operate();
  } catch (...) {
    if (listener) listener->invalidate_range_end(r.range.start, r.range.end);  // never leave it open
    throw;
  }
  const auto t2 = Clock::now();
  hold_for(cfg_.hold, stop_flag_);  // cut short by a stop; range_end follows either way
  if (listener) listener->invalidate_range_end(r.range.start, r.range.end);
  const auto t3 = Clock::now();
  r.op_ns = ns_between(t1, t2);
  r.bracket_ns = ns_between(t0, t3);
  after_step();

  if (verify) {
    touch({plan_.observed, plan_.observed + kPageSize});
    const PageInfo after = pagemap_.read(plan_.observed, !pagemap_.pmd_mapping_readable());
    r.pfn_after = after.pfn;
    r.thp_after = after.huge();
    // Bytes other threads write during the step are not the invalidator's to judge.
    r.content_preserved = same_content_outside(snapshot_.data(), observed, kPageSize, cfg_.concurrently_written);
  }
  return r;
}

}  // namespace gpc
