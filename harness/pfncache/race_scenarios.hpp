// The historical races of BRIEF §7 as forced interleavings, in the library so both the
// unit tests and `gpcbench stress --self-test` run the same scenarios in the normal
// binary. Each runs on the faithful model or with its bug put back and reports whether
// the race's detector fired. Threads are ordered by sync points and observable state;
// every wait is bounded, so a scenario never hangs (scenario_ok turns false instead).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "pfncache/contract_checker.hpp"
#include "pfncache/gpc.hpp"
#include "pfncache/policy.hpp"

namespace gpc::pfncache {

struct RaceOutcome {
  Bug race = Bug::kNone;    // which historical race
  bool broken = false;      // run with the bug put back
  bool detected = false;    // the race's detector fired (must be false when !broken)
  bool scenario_ok = true;  // every sync point was reached within its bound
  std::string detail;       // counters behind the verdict, one line
  ContractStats contract;   // what the accesses showed
  GpcAudit audit;           // model invariants after the run
  RefreshResult refresh = RefreshResult::kOk;  // the racing refresh (where one is judged)
  uint64_t live_mappings = 0;                  // mappings left once the scenario ended
};

// The races that have a Bug value (the livelock is Filter::kGlobal, see run_livelock).
std::vector<Bug> historical_races();

// Runs the interleaving for `race` on the faithful model (broken=false) or with the bug
// (broken=true). `race` must not be Bug::kNone.
RaceOutcome run_race(Bug race, bool broken);
// Bug::kDeactivateInRefresh runs two interleavings; run_race reports them together.
// same_page=false: the page moved, so the refresh maps a new one; true: the pfn is
// unchanged and the refresh reuses the old khva.
RaceOutcome run_deactivate_race(bool same_page, bool broken);

struct LivelockOutcome {
  bool completed = false;  // the refresh finished within the bound
  std::string detail;
};
// One unrelated invalidation held open while a cache on another page refreshes.
LivelockOutcome run_livelock(WaitKind wait, Filter filter, std::chrono::nanoseconds bound);

}  // namespace gpc::pfncache
