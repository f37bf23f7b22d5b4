// Runs the Python half of report/compare (results/report/*.py) under Debian's
// /usr/bin/python3, which sees python3-matplotlib/scipy/numpy (a python3 earlier on PATH
// may not). Returns the script's exit code; the scripts exit 2 naming a missing package.
//
// Stop signals (issue 15, item 10): while the script runs, SIGINT and SIGTERM are blocked
// in gpcbench and taken with sigtimedwait. The first one is forwarded to the script once;
// the script (results/report/gpc_signals.py) removes its temporaries and exits; after a
// grace period it is killed. Either way the result is 128 + the signal (130, 143).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace gpc::matrix {

int run_python_tool(const std::string& script, const std::vector<std::string>& args);

struct StoppableLimits {
  std::chrono::nanoseconds timeout = std::chrono::hours(1);  // bounds a wedged plot
  std::chrono::nanoseconds grace = std::chrono::seconds(30);  // after a forwarded stop signal
};

// Runs argv[0] with argv in gpcbench's process group, stdout/stderr inherited. The child
// starts with SIGINT/SIGTERM blocked (it unblocks them once its handlers are in place, so a
// signal during interpreter start-up is not lost nor a traceback) and dies with SIGTERM if
// gpcbench dies (PR_SET_PDEATHSIG). Returns the child's exit code, or 128 + N when a stop
// signal N arrived. Throws UnavailableError when the child was killed by another signal or
// ran past limits.timeout, SystemError when it cannot be started.
int run_stoppable_child(const std::vector<std::string>& argv, const StoppableLimits& limits = {});

}  // namespace gpc::matrix
