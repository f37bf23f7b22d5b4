#include "scenarios/scenario_registry.hpp"

#include "scenarios/cache_scenario.hpp"
#include "scenarios/pingpong_scenario.hpp"
#include "scenarios/pvclock_scenario.hpp"
#include "scenarios/xen_evtchn_scenario.hpp"

namespace gpc::scenarios {

void register_scenarios(CLI::App& run, int& exit_code) {
  add_pvclock_scenario(run, exit_code);
  add_pingpong_scenario(run, exit_code);
  add_xen_evtchn_scenario(run, exit_code);
  add_cache_scenario(run, exit_code);
}

}  // namespace gpc::scenarios
