#include "pfncache/policy.hpp"

#include <array>
#include <climits>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace gpc::pfncache {
namespace {

template <typename E, size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<Hook, 2> kHooks{{{Hook::kStart, "start"}, {Hook::kEnd, "end"}}};
constexpr Names<WaitKind, 4> kWaits{{{WaitKind::kBusy, "busy"},
                                     {WaitKind::kSpin, "spin"},
                                     {WaitKind::kHaltPoll, "haltpoll"},
                                     {WaitKind::kBlock, "block"}}};
constexpr Names<Filter, 2> kFilters{{{Filter::kGlobal, "global"}, {Filter::kRange, "range"}}};
constexpr Names<ReaderCheck, 2> kChecks{
    {{ReaderCheck::kRwlock, "rwlock"}, {ReaderCheck::kLockless, "lockless"}}};
constexpr Names<Bug, 11> kBugs{{{Bug::kNone, "none"},
                               {Bug::kCountAfterInvalidate, "count-after-invalidate"},
                               {Bug::kSpeculativeValid, "speculative-valid"},
                               {Bug::kNoRefreshMutex, "no-refresh-mutex"},
                               {Bug::kConsumeInactive, "consume-inactive"},
                               {Bug::kReinitLock, "reinit-lock"},
                               {Bug::kDeactivateInRefresh, "deactivate-in-refresh"},
                               {Bug::kInnerContinue, "inner-continue"},
                               {Bug::kEndErrorPfn, "end-error-pfn"},
                               {Bug::kRefreshBeforeActive, "refresh-before-active"},
                               {Bug::kRunstateBlockingLock, "runstate-blocking-lock"}}};

template <typename E, size_t N>
std::string_view name_of(const Names<E, N>& names, E value) {
  for (const auto& [e, name] : names)
    if (e == value) return name;
  return "?";
}

template <typename E, size_t N>
E parse_from(const Names<E, N>& names, std::string_view text, std::string_view flag) {
  std::string accepted;
  for (const auto& [e, name] : names) {
    if (name == text) return e;
    accepted += accepted.empty() ? "" : "|";
    accepted += name;
  }
  throw UsageError(fmt::format("{} '{}' is not known; use one of {}", flag, text, accepted));
}

}  // namespace

std::string_view to_string(Hook v) { return name_of(kHooks, v); }
std::string_view to_string(WaitKind v) { return name_of(kWaits, v); }
std::string_view to_string(Filter v) { return name_of(kFilters, v); }
std::string_view to_string(ReaderCheck v) { return name_of(kChecks, v); }
std::string_view to_string(Bug v) { return name_of(kBugs, v); }

Hook parse_hook(std::string_view s) { return parse_from(kHooks, s, "--hook"); }
WaitKind parse_wait(std::string_view s) { return parse_from(kWaits, s, "--strategy"); }
Filter parse_filter(std::string_view s) { return parse_from(kFilters, s, "--filter"); }
ReaderCheck parse_check(std::string_view s) { return parse_from(kChecks, s, "--check"); }
Bug parse_bug(std::string_view s) { return parse_from(kBugs, s, "--bug"); }

KernelHaltPoll halt_poll_from_kernel(const std::string& dir) {
  KernelHaltPoll k;
  struct Param {
    const char* name;
    uint32_t* field;
  };
  const Param params[] = {{"halt_poll_ns", &k.params.max_ns},
                          {"halt_poll_ns_grow", &k.params.grow},
                          {"halt_poll_ns_grow_start", &k.params.start_ns},
                          {"halt_poll_ns_shrink", &k.params.shrink}};
  std::string missing;
  size_t n_missing = 0;
  for (const Param& p : params) {
    std::ifstream in(dir + "/" + p.name);
    unsigned long v = 0;
    if (in >> v && v <= UINT32_MAX) {
      *p.field = static_cast<uint32_t>(v);
    } else {
      missing += missing.empty() ? "" : ", ";
      missing += p.name;
      ++n_missing;
    }
  }
  if (n_missing == 0)
    k.source = dir;
  else if (n_missing == std::size(params))
    k.source = fmt::format("KVM defaults of 6.11+ ({} not readable)", dir);
  else
    k.source = fmt::format("{}; KVM defaults for {} (not readable)", dir, missing);
  return k;
}

std::string describe(const HaltPollParams& h) {
  return fmt::format("halt_poll_ns={} grow={} grow_start={} shrink={}", h.max_ns, h.grow, h.start_ns, h.shrink);
}

std::string describe(const Policy& p) {
  std::string out = fmt::format("strategy:{}/hook:{}/filter:{}/check:{}", to_string(p.wait),
                                to_string(p.hook), to_string(p.filter), to_string(p.check));
  if (p.bug != Bug::kNone) out += fmt::format("/bug:{}", to_string(p.bug));
  return out;
}

}  // namespace gpc::pfncache
