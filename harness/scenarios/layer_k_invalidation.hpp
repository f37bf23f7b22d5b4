// Host invalidators on a layer K scenario's guest data slot (pvclock, xen-evtchn): the
// flags --invalidator/--target/--rate/--hold/--range-size/--backing, the region the data
// slot lives in, probing every type before anything is built, building the invalidators,
// and the parts of the record and table they add. One copy, so the scenarios cannot drift.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "invalidators/invalidator.hpp"
#include "invalidators/runner.hpp"
#include "memory/region.hpp"

namespace gpc::scenarios {

struct InvalidationOptions {
  std::vector<InvalidatorType> invalidators;  // one thread each
  Target target = Target::cache;
  double rate_hz = 0;  // per invalidator; 0 = free-running
  Nanos hold{0};
  size_t range_size = 4096;
  BackingKind backing = BackingKind::anonymous;
};

// The flags as typed; apply_invalidation_flags() parses them (UsageError naming the flag
// and its valid values).
struct InvalidationFlags {
  std::string invalidators, target = "cache", rate = "0", hold = "0ns", backing;
};
// `cache_page` says what --target cache is in this scenario ("vCPU 0's pvclock page").
void add_invalidation_flags(CLI::App& scenario, InvalidationFlags& flags, std::string_view cache_page);
void apply_invalidation_flags(const InvalidationFlags& flags, InvalidationOptions& options);

// UsageError for a negative rate or a range outside [1, max_range] bytes.
void validate_invalidation(const InvalidationOptions& options, size_t max_range, std::string_view why_max);

// "mremap,zap".
std::string invalidator_list_text(const std::vector<InvalidatorType>& types);
// "" without invalidators, else "/invalidator:LIST/target:T" (the record-name part).
std::string invalidation_name_part(const InvalidationOptions& options);

// What probe() says about `type` on a data slot of `backing` (MADV_HUGEPAGE wherever the
// THP mode lets it work, as make_data_region() builds it).
ProbeResult probe_data_slot(InvalidatorType type, Target target, BackingKind backing, bool accept_content_loss);
// Throws UnavailableError "<type> on the <page> (--backing B, --target T): <reason>" for
// the first type `probe_one` refuses.
void require_invalidators_run(const InvalidationOptions& options, std::string_view page,
                              const std::function<ProbeResult(InvalidatorType)>& probe_one);

// The data slot's memory (GPC_GUEST_DATA_SIZE bytes). MADV_HUGEPAGE wherever the THP mode
// lets it work, so the THP invalidators have a PMD-mapped chunk; memfd gets spare file
// pages for every page-swapping invalidator (each holds one op's pages while it swaps).
std::unique_ptr<GuestRegion> make_data_region(const InvalidationOptions& options);

// One invalidator per type on `region`, `cache_hva` being the `cache` target's page. No
// listener: the kernel's own MMU notifier fires inside each syscall. `marker_for(type)`
// gives the step marker that type announces its steps in (nullptr: none).
std::vector<std::unique_ptr<Invalidator>> make_data_slot_invalidators(
    const InvalidationOptions& options, GuestRegion& region, uintptr_t cache_hva, bool accept_content_loss,
    const std::function<uint64_t*(InvalidatorType)>& marker_for);

// context.run fields: invalidators, target, rate_hz, hold_ns, range_size, backing, hugepage.
nlohmann::json invalidation_json(const InvalidationOptions& options, const GuestRegion& region);

// One row per invalidator (PU, ops, ops/s, op p50/p99, PFN/THP changed, unverified,
// content lost, failed); nothing without invalidators.
void print_invalidator_table(const std::vector<InvalidatorStats>& stats, const std::vector<int>& pus);

}  // namespace gpc::scenarios
