#include "matrix/scenario_axes.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "common/duration.hpp"
#include "common/errors.hpp"

namespace gpc::matrix {
namespace {

const std::vector<std::string> kInvalidators = {"mremap", "mmap-fixed", "zap",  "punch-hole",
                                                "thp-split", "thp-collapse", "migrate",
                                                "compact", "mprotect"};
const std::vector<std::string> kTargets = {"cache", "neighbour", "unrelated"};

const std::map<std::string, std::vector<AxisInfo>>& schema() {
  // Order = the order of axes in the benchmark names the scenarios write (CONTRACTS.md).
  static const std::map<std::string, std::vector<AxisInfo>> s = {
      {"pvclock",
       {{"vcpus", AxisType::kCount, {}, true},
        {"invalidator", AxisType::kChoiceList, kInvalidators, true},
        {"target", AxisType::kChoice, kTargets, true},
        {"rate", AxisType::kRate, {}, true},
        {"hold", AxisType::kDuration, {}, true},
        {"range-size", AxisType::kBytes, {}, true}}},
      {"cache",
       {{"strategy", AxisType::kChoice, {"busy", "spin", "haltpoll", "block"}, false},
        {"hook", AxisType::kChoice, {"start", "end"}, false},
        {"filter", AxisType::kChoice, {"global", "range"}, true},
        {"check", AxisType::kChoice, {"rwlock", "lockless"}, true},
        {"invalidator", AxisType::kChoiceList, kInvalidators, true},
        {"target", AxisType::kChoice, kTargets, true},
        {"rate", AxisType::kRate, {}, true},
        {"hold", AxisType::kDuration, {}, true},
        {"writers", AxisType::kCount, {}, true},
        {"co-runner", AxisType::kFlag, {}, true},
        {"overcommit", AxisType::kFlag, {}, true},
        {"placement", AxisType::kChoice, {"alone", "shared", "overcommit"}, true},
        {"reader", AxisType::kChoice, {"guest", "host", "auto"}, true}}},
  };
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "|") + s;
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

const std::vector<std::string>& known_scenarios() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [k, v] : schema()) n.push_back(k);
    return n;
  }();
  return names;
}

const std::vector<AxisInfo>* scenario_axes(const std::string& scenario) {
  auto it = schema().find(scenario);
  return it == schema().end() ? nullptr : &it->second;
}

std::string check_axis_value(const AxisInfo& axis, const std::string& value) {
  switch (axis.type) {
    case AxisType::kChoice:
      if (std::find(axis.choices.begin(), axis.choices.end(), value) == axis.choices.end())
        return "one of " + join(axis.choices);
      return "";
    case AxisType::kChoiceList: {
      std::stringstream ss(value);
      std::string item;
      int n = 0;
      while (std::getline(ss, item, ',')) {
        ++n;
        if (std::find(axis.choices.begin(), axis.choices.end(), item) == axis.choices.end())
          return "a comma-separated list of " + join(axis.choices) + " ('" + item + "' is not one)";
      }
      return n ? "" : "a comma-separated list of " + join(axis.choices);
    }
    case AxisType::kCount:
      if (!all_digits(value) || std::stoll(value) <= 0) return "a positive integer";
      return "";
    case AxisType::kRate:
      try {
        parse_rate_hz(value, axis.name);
        return "";
      } catch (const UsageError&) {
        return "a rate in Hz such as 1000, 2k or 1.5M (0 = free-running)";
      }
    case AxisType::kDuration:
      try {
        parse_duration(value, axis.name);
        return "";
      } catch (const UsageError&) {
        return "a duration such as 10us, 5ms or 1s";
      }
    case AxisType::kBytes: {
      std::string digits = value;
      if (!digits.empty() && std::string("KMGkmg").find(digits.back()) != std::string::npos)
        digits.pop_back();
      if (!all_digits(digits) || std::stoll(digits) <= 0)
        return "a positive byte count, optionally with a K, M or G suffix";
      return "";
    }
    case AxisType::kFlag:
      return "true or false (a flag takes no value)";
  }
  return "";
}

bool is_reserved_flag(const std::string& name) {
  return name == "duration" || name == "seed" || name == "json" || name == "quiet";
}

}  // namespace gpc::matrix
