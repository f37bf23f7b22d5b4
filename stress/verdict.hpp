// Judges one finished combination run from how the child ended and what its result file
// says: pass, unexpected violation, skip, unsafe by design (shown, not failing) or hung.
#pragma once

#include <optional>
#include <string>

#include "matrix/child_process.hpp"
#include "results/result_file.hpp"
#include "stress/combinations.hpp"
#include "stress/tap_writer.hpp"

namespace gpc::stress {

enum class Outcome {
  kPass,            // exit 0, no violations of any kind
  kFail,            // unexpected violation, crash, hang, missing result: fails the stress run
  kSkip,            // exit 2: the scenario cannot run here (its message says why)
  kUnsafeByDesign,  // only unsafe_violations, in a combination that may break the contract by design
  kInterrupted,     // Ctrl-C: the run was torn down, no verdict
};

struct Verdict {
  Outcome outcome = Outcome::kFail;
  std::string summary;          // one line: why (for the TAP directive or the table)
  TapDiagnostics diagnostics;   // counters, the reproduction command, the log tail
};

struct RunRecord {
  matrix::ChildResult child;
  std::optional<ResultFile> result;  // nullopt: no (readable) result file
  std::string result_error;          // why the result file could not be read
  std::string log_tail;              // last lines of the child's output
  std::string command;               // the command line that reproduces the run
  double bound_seconds = 0;          // duration + grace
};

Verdict judge(const Combination& c, const RunRecord& run);

// Sum of a counter over every benchmark record of a result (0 when absent).
double counter_sum(const ResultFile& result, const std::string& counter);

std::string_view outcome_name(Outcome o);  // "ok", "FAIL", "skip", "unsafe", "interrupted"

}  // namespace gpc::stress
