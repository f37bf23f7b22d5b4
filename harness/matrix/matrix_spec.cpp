#include "matrix/matrix_spec.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "common/errors.hpp"
#include "matrix/scenario_axes.hpp"

namespace gpc::matrix {

std::string SourcePos::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string AxisValue::label() const {
  switch (kind) {
    case Kind::kFlagOn: return "on";
    case Kind::kFlagOff: return "off";
    case Kind::kValue: break;
  }
  return text;
}

namespace {

SourcePos pos_of(const toml::source_region& r, const std::string& origin) {
  return {origin, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

[[noreturn]] void fail_at(const SourcePos& p, const std::string& what) {
  throw UsageError(p.str() + ": " + what);
}

const char* type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

// Walks the parsed document; every accessor reports the node's position on error.
class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  SourcePos at(const toml::node& n) const { return pos_of(n.source(), origin_); }
  SourcePos at(const toml::key& k) const { return pos_of(k.source(), origin_); }

  const toml::table& table(const toml::node& n, const std::string& what) const {
    if (!n.is_table()) fail_at(at(n), what + " must be a table, found " + type_name(n.type()));
    return *n.as_table();
  }

  std::string string(const toml::node& n, const std::string& what) const {
    if (!n.is_string()) fail_at(at(n), what + ": expected a string, found " + type_name(n.type()));
    return n.as_string()->get();
  }

  // TOML integers are 64-bit (toml++ rejects larger literals with a parse error); the range
  // is checked here, before any narrowing.
  int64_t integer(const toml::node& n, const std::string& what, int64_t min, int64_t max) const {
    if (!n.is_integer()) fail_at(at(n), what + ": expected an integer, found " + type_name(n.type()));
    const int64_t v = n.as_integer()->get();
    if (v < min || v > max)
      fail_at(at(n), what + ": expected an integer in " + std::to_string(min) + ".." + std::to_string(max) +
                         ", found " + std::to_string(v));
    return v;
  }

  Nanos duration(const toml::node& n, const std::string& what) const {
    const std::string text = string(n, what);
    try {
      return parse_duration(text, what);
    } catch (const UsageError&) {
      fail_at(at(n), what + ": expected a duration such as \"500ms\", \"3s\" or \"1m\", found \"" + text + "\"");
    }
  }

  // One axis value, validated against the scenario's axis.
  AxisValue axis_value(const toml::node& n, const AxisInfo& axis) const {
    AxisValue v;
    if (n.is_boolean()) {
      const bool on = n.as_boolean()->get();
      if (on && axis.type != AxisType::kFlag)
        fail_at(at(n), "axis '" + axis.name + "' takes a value, not true (" +
                           check_axis_value(axis, "") + "; false omits the flag)");
      if (!on && !axis.optional_value)
        fail_at(at(n), "axis '" + axis.name + "' cannot be omitted (false); expected " +
                           check_axis_value(axis, ""));
      v.kind = on ? AxisValue::Kind::kFlagOn : AxisValue::Kind::kFlagOff;
      return v;
    }
    if (axis.type == AxisType::kFlag)
      fail_at(at(n), "axis '" + axis.name + "' is a flag: expected true or false, found " + type_name(n.type()));
    if (n.is_string()) {
      v.text = n.as_string()->get();
    } else if (n.is_integer()) {
      v.text = std::to_string(n.as_integer()->get());
    } else if (n.is_floating_point()) {
      std::ostringstream ss;
      ss << n.as_floating_point()->get();
      v.text = ss.str();
    } else {
      fail_at(at(n), "axis '" + axis.name + "': expected a string, number or boolean, found " + type_name(n.type()));
    }
    const std::string expected = check_axis_value(axis, v.text);
    if (!expected.empty())
      fail_at(at(n), "axis '" + axis.name + "': '" + v.text + "' is not valid; expected " + expected);
    return v;
  }

  // A list of axis values; a single value is accepted as a one-element list.
  std::vector<AxisValue> axis_values(const toml::node& n, const AxisInfo& axis) const {
    std::vector<AxisValue> out;
    if (const auto* arr = n.as_array()) {
      if (arr->empty())
        fail_at(at(n), "axis '" + axis.name + "' has an empty list: give at least one value, or remove the axis to use the scenario's default");
      std::set<std::string> seen;  // by label: linear planning (issue 15 item 11)
      for (const auto& item : *arr) {
        AxisValue v = axis_value(item, axis);
        if (!seen.insert(v.label()).second) fail_at(at(item), "axis '" + axis.name + "' lists '" + v.label() + "' twice");
        out.push_back(std::move(v));
      }
    } else {
      out.push_back(axis_value(n, axis));
    }
    return out;
  }

  const AxisInfo& axis_info(const toml::key& k, const std::string& scenario) const {
    const std::string name(k.str());
    if (is_reserved_flag(name))
      fail_at(at(k), "'" + name + "' cannot be an axis: the matrix sets it (use [matrix] duration/seed)");
    for (const auto& a : *scenario_axes(scenario))
      if (a.name == name) return a;
    std::string known;
    for (const auto& a : *scenario_axes(scenario)) known += (known.empty() ? "" : ", ") + a.name;
    fail_at(at(k), "unknown axis '" + name + "' for scenario '" + scenario + "'; expected one of: " + known);
  }

  void matrix_settings(const toml::table& t, MatrixSpec& spec) const {
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (key == "name") spec.name = string(v, "[matrix] name");
      else if (key == "repetitions") spec.repetitions = static_cast<int>(integer(v, "[matrix] repetitions", 1, kMaxRepetitions));
      else if (key == "duration") spec.duration = duration(v, "[matrix] duration");
      else if (key == "warmup") spec.warmup = duration(v, "[matrix] warmup");
      else if (key == "grace") spec.grace = duration(v, "[matrix] grace");
      else if (key == "seed") spec.seed = static_cast<uint64_t>(integer(v, "[matrix] seed", 0, INT64_MAX));
      else fail_at(at(k), "unknown key '" + key + "' in [matrix]; expected name, repetitions, duration, warmup, grace or seed");
    }
    if (spec.duration.count() <= 0) fail_at(at(*t.get("duration")), "[matrix] duration must be > 0");
  }

  ScenarioBlock scenario(const toml::table& t) const {
    ScenarioBlock block;
    block.where = at(t);
    const toml::node* name = t.get("name");
    if (!name) fail_at(block.where, "[[scenario]] needs a name; expected name = \"cache\" or \"pvclock\"");
    block.scenario = string(*name, "[[scenario]] name");
    const auto* axes_info = scenario_axes(block.scenario);
    if (!axes_info) {
      std::string known;
      for (const auto& s : known_scenarios()) known += (known.empty() ? "" : ", ") + s;
      fail_at(at(*name), "unknown scenario '" + block.scenario + "'; expected one of: " + known);
    }
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (key == "name") continue;
      if (key == "axes") {
        std::vector<Axis> declared;
        for (auto&& [ak, av] : table(v, "[scenario.axes]")) {
          const AxisInfo& info = axis_info(ak, block.scenario);
          declared.push_back({info.name, axis_values(av, info), at(ak)});
        }
        // Fixed order, so cell ids do not depend on how the file orders its axes.
        for (const auto& info : *axes_info)
          for (auto& a : declared)
            if (a.name == info.name) block.axes.push_back(std::move(a));
      } else if (key == "exclude") {
        const auto* arr = v.as_array();
        if (!arr) fail_at(at(v), "exclude must be an array of tables ([[scenario.exclude]]), found " + std::string(type_name(v.type())));
        for (const auto& item : *arr) block.excludes.push_back(exclusion(table(item, "an exclude entry"), block));
      } else {
        fail_at(at(k), "unknown key '" + key + "' in [[scenario]]; expected name, axes or exclude");
      }
    }
    // Exclusions are checked after all axes are known: each value must be one an axis has.
    for (auto& ex : block.excludes) check_exclusion(ex, block);
    return block;
  }

  Exclusion exclusion(const toml::table& t, const ScenarioBlock& block) const {
    Exclusion ex;
    ex.where = at(t);
    if (t.empty()) fail_at(ex.where, "an empty exclude entry would exclude every cell; list axis = value pairs");
    for (auto&& [k, v] : t) {
      const AxisInfo& info = axis_info(k, block.scenario);
      ex.match.emplace_back(info.name, axis_values(v, info));
    }
    return ex;
  }

  void check_exclusion(const Exclusion& ex, const ScenarioBlock& block) const {
    for (const auto& [name, values] : ex.match) {
      const Axis* axis = nullptr;
      for (const auto& a : block.axes)
        if (a.name == name) axis = &a;
      if (!axis) fail_at(ex.where, "exclude names axis '" + name + "', which this scenario block does not vary; expected one of its axes");
      std::set<std::string> labels;
      for (const auto& av : axis->values) labels.insert(av.label());
      for (const auto& v : values) {
        if (!labels.count(v.label())) fail_at(ex.where, "exclude value '" + v.label() + "' of axis '" + name + "' is not among the axis values, so it never matches");
      }
    }
  }

 private:
  std::string origin_;
};

}  // namespace

MatrixSpec parse_matrix(std::string_view toml_text, const std::string& origin) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    const SourcePos p = pos_of(e.source(), origin);
    throw UsageError(p.str() + ": invalid TOML: " + std::string(e.description()));
  }
  Reader r(origin);
  MatrixSpec spec;
  spec.origin = origin;
  spec.source_text = std::string(toml_text);
  spec.name = std::filesystem::path(origin).stem().string();
  for (auto&& [k, v] : doc) {
    const std::string key(k.str());
    if (key == "matrix") {
      r.matrix_settings(r.table(v, "[matrix]"), spec);
    } else if (key == "scenario") {
      const auto* arr = v.as_array();
      if (!arr || !arr->is_array_of_tables())
        fail_at(r.at(v), "scenario must be declared as [[scenario]] tables");
      for (const auto& item : *arr) spec.scenarios.push_back(r.scenario(*item.as_table()));
    } else {
      fail_at(r.at(k), "unknown top-level key '" + key + "'; expected [matrix] or [[scenario]]");
    }
  }
  if (spec.scenarios.empty())
    throw UsageError(origin + ":1:1: the matrix declares no [[scenario]]; expected at least one");
  return spec;
}

MatrixSpec parse_matrix_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    throw UsageError("cannot read matrix file " + path.string() +
                     ": check the path, or use --preset quick|full");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_matrix(ss.str(), path.string());
}

}  // namespace gpc::matrix
