#include "scenarios/layer_k_invalidation.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.hpp"
#include "gpc_guest/abi.h"
#include "memory/anon_region.hpp"
#include "memory/mapping.hpp"
#include "memory/memfd_region.hpp"
#include "memory/thp_modes.hpp"

namespace gpc::scenarios {
namespace {

bool is_page_swapper(InvalidatorType t) { return t == InvalidatorType::mremap || t == InvalidatorType::mmap_fixed; }

bool hugepage_works(BackingKind backing) {
  const ThpModes modes = read_thp_modes();
  return backing == BackingKind::anonymous ? modes.anon_madvise_works() : modes.shmem_madvise_works();
}

}  // namespace

void add_invalidation_flags(CLI::App& cmd, InvalidationFlags& flags, std::string_view cache_page) {
  cmd.add_option("--invalidator", flags.invalidators,
                 "Comma-separated invalidator types, one pinned thread each: mremap, mmap-fixed, zap, punch-hole, "
                 "thp-split, thp-collapse, migrate, compact, mprotect");
  cmd.add_option("--target", flags.target,
                 fmt::format("cache ({}), neighbour (same 2 MB chunk, other half) or unrelated (the invalidator's "
                             "own memory) (default cache)",
                             cache_page));
  cmd.add_option("--rate", flags.rate, "Operations per second per invalidator; 0 = free-running (default 0)");
  cmd.add_option("--hold", flags.hold, "Pause between an invalidator's operation and its end (default 0)");
  cmd.add_option("--backing", flags.backing,
                 fmt::format("Guest data memory: anon (MADV_HUGEPAGE) or memfd (default {})", flags.backing));
}

void apply_invalidation_flags(const InvalidationFlags& flags, InvalidationOptions& o) {
  if (!flags.invalidators.empty()) o.invalidators = parse_invalidator_list(flags.invalidators);
  o.target = parse_target(flags.target);
  o.rate_hz = parse_rate_hz(flags.rate, "--rate");
  o.hold = parse_duration(flags.hold, "--hold");
  o.backing = parse_backing(flags.backing);
}

void validate_invalidation(const InvalidationOptions& o, size_t max_range, std::string_view why_max) {
  if (o.range_size == 0 || o.range_size > max_range)
    throw UsageError(fmt::format("--range-size must be between 1 and {} bytes ({})", max_range, why_max));
  if (o.rate_hz < 0) throw UsageError("--rate must be >= 0 (0 = free-running)");
  if (o.hold.count() < 0) throw UsageError("--hold must be >= 0");
}

std::string invalidator_list_text(const std::vector<InvalidatorType>& types) {
  std::vector<std::string> names;
  for (InvalidatorType t : types) names.emplace_back(invalidator_name(t));
  return fmt::format("{}", fmt::join(names, ","));
}

std::string invalidation_name_part(const InvalidationOptions& o) {
  if (o.invalidators.empty()) return "";
  return fmt::format("/invalidator:{}/target:{}", invalidator_list_text(o.invalidators), target_name(o.target));
}

ProbeResult probe_data_slot(InvalidatorType type, Target target, BackingKind backing, bool accept_content_loss) {
  ProbeContext ctx;
  ctx.backing = backing;
  ctx.hugepage = hugepage_works(backing);
  ctx.accept_content_loss = accept_content_loss;
  return probe(type, target, ctx);
}

void require_invalidators_run(const InvalidationOptions& o, std::string_view page,
                              const std::function<ProbeResult(InvalidatorType)>& probe_one) {
  for (InvalidatorType t : o.invalidators) {
    const ProbeResult pr = probe_one(t);
    if (!pr.runs_here)
      throw UnavailableError(fmt::format("{} on the {} (--backing {}, --target {}): {}", invalidator_name(t), page,
                                         backing_name(o.backing), target_name(o.target), pr.reason));
  }
}

std::unique_ptr<GuestRegion> make_data_region(const InvalidationOptions& o) {
  RegionOptions r;
  r.size = GPC_GUEST_DATA_SIZE;
  if (o.backing == BackingKind::anonymous) {
    r.hugepage = hugepage_works(BackingKind::anonymous);
    return std::make_unique<AnonRegion>(r);
  }
  r.hugepage = true;  // MemfdRegion applies it only where shmem_enabled lets it work
  const size_t op_pages = (o.range_size + kPageSize - 1) / kPageSize;
  const auto swappers =
      static_cast<size_t>(std::count_if(o.invalidators.begin(), o.invalidators.end(), is_page_swapper));
  r.spare_pages = 2 * op_pages * swappers + 8;
  return std::make_unique<MemfdRegion>(r);
}

std::vector<std::unique_ptr<Invalidator>> make_data_slot_invalidators(
    const InvalidationOptions& o, GuestRegion& region, uintptr_t cache_hva, bool accept_content_loss,
    const std::function<uint64_t*(InvalidatorType)>& marker_for) {
  std::vector<std::unique_ptr<Invalidator>> out;
  for (InvalidatorType t : o.invalidators) {
    InvalidatorConfig cfg;
    cfg.target = o.target;
    cfg.cache_hva = cache_hva;
    cfg.range_size = o.range_size;
    cfg.hold = o.hold;
    cfg.accept_content_loss = accept_content_loss;
    cfg.step_marker = marker_for(t);
    out.push_back(make_invalidator(t, region, cfg));
  }
  return out;
}

nlohmann::json invalidation_json(const InvalidationOptions& o, const GuestRegion& region) {
  nlohmann::json types = nlohmann::json::array();
  for (InvalidatorType t : o.invalidators) types.push_back(std::string(invalidator_name(t)));
  return {{"invalidators", types},
          {"target", std::string(target_name(o.target))},
          {"rate_hz", o.rate_hz},
          {"hold_ns", o.hold.count()},
          {"range_size", o.range_size},
          {"backing", std::string(backing_name(o.backing))},
          {"hugepage", region.hugepage_advised()}};
}

void print_invalidator_table(const std::vector<InvalidatorStats>& stats, const std::vector<int>& pus) {
  if (stats.empty()) return;
  fmt::print("\n{:<13} {:<10} {:>4} {:>8} {:>9} {:>9} {:>9} {:>11} {:>11} {:>10} {:>12} {:>9}\n", "invalidator",
             "target", "pu", "ops", "ops/s", "op p50", "op p99", "pfn_changed", "thp_changed", "unverified",
             "content_lost", "op_failed");
  for (size_t i = 0; i < stats.size(); ++i) {
    const InvalidatorStats& s = stats[i];
    const int pu = i < pus.size() ? pus[i] : -1;
    fmt::print("{:<13} {:<10} {:>4} {:>8} {:>9.0f} {:>9} {:>9} {:>11} {:>11} {:>10} {:>12} {:>9}\n",
               invalidator_name(s.type), target_name(s.target), pu, s.ops, s.ops_per_s(),
               format_ns(static_cast<double>(s.op_ns.quantile(0.5))),
               format_ns(static_cast<double>(s.op_ns.quantile(0.99))), s.pfn_changed, s.thp_changed, s.unverified,
               s.content_lost, s.op_failed);
  }
}

}  // namespace gpc::scenarios
