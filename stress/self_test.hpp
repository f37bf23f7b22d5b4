// `gpcbench stress --self-test`: proves the detectors work by running each deliberately
// broken variant and requiring it to be caught, and each faithful run to pass:
//  (a) every historical race (BRIEF §7) as a forced interleaving, in process;
//  (b) the livelock under a held unrelated invalidation (global filter) vs range filter;
//  (c) the random `cache` scenario as a subprocess with `--bug NAME`.
#pragma once

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "common/duration.hpp"
#include "pfncache/race_scenarios.hpp"

namespace gpc::stress {

struct SelfTestOptions {
  bool tap = false;
  // The binary whose `run cache` is checked in (c); empty: (c) is skipped.
  std::filesystem::path runner;
  Nanos scenario_duration = std::chrono::seconds(1);
  Nanos grace = std::chrono::seconds(10);
  // Bugs the random scenario is required to catch. The others are run and reported (caught
  // or not), but a miss is no failure: their forced interleaving (a) is the detector.
  // Empty by default; the verb fills it with the bugs the real scenario reliably catches.
  std::set<pfncache::Bug> random_must_catch;
  std::chrono::nanoseconds livelock_bound = std::chrono::milliseconds(100);
};

// Which detector fired in a race outcome: "contract checker: stale=2", "deadlock", ...
std::string detector_of(const pfncache::RaceOutcome& o);

// Returns 0 when every broken variant was caught and no faithful run was flagged, else 1.
int run_self_test(const SelfTestOptions& o, std::FILE* out);

}  // namespace gpc::stress
