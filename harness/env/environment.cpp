// Minimal capture (kernel release, host, CPUs, suite); the foundation issue extends it
// with topology, KVM, THP, NUMA and perf facts.
#include "env/environment.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>

namespace gpc {

nlohmann::json capture_environment() {
  nlohmann::json env;
  struct utsname u = {};
  uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%FT%T%z", std::localtime(&now));
  env["date"] = date;
  env["host_name"] = u.nodename;
  env["num_cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
  env["kernel"] = {{"release", u.release}, {"version", u.version}};
  env["suite"] = {{"version", GPC_VERSION}, {"commit", GPC_GIT_COMMIT}};
  return env;
}

}  // namespace gpc
