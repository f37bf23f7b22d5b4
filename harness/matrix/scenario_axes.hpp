// The axes each scenario accepts (CONTRACTS.md, `gpcbench run` flags), in the fixed order
// cell ids use, and a validator per axis so a typo in a matrix file is caught before hours
// of runs rather than in the first subprocess.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gpc::matrix {

enum class AxisType {
  kChoice,      // one of `choices`
  kChoiceList,  // comma-separated list of `choices` (invalidator types)
  kCount,       // positive integer
  kRate,        // common/duration.hpp rate ("1000", "2k", "0" = free-running)
  kDuration,    // common/duration.hpp duration ("10us")
  kBytes,       // positive integer, optionally with K/M/G suffix
  kFlag,        // boolean flag: true = present, false = absent
};

struct AxisInfo {
  std::string name;
  AxisType type;
  std::vector<std::string> choices;
  bool optional_value = false;  // may be `false` (flag omitted, scenario default)
};

// Known scenarios, for error messages.
const std::vector<std::string>& known_scenarios();
// The scenario's axes in cell-id order; nullptr for an unknown scenario.
const std::vector<AxisInfo>* scenario_axes(const std::string& scenario);
// Empty when `value` is acceptable for the axis, else what was expected.
std::string check_axis_value(const AxisInfo& axis, const std::string& value);
// Flags the matrix sets itself; they may not be axes.
bool is_reserved_flag(const std::string& name);

}  // namespace gpc::matrix
