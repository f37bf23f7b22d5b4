// A declarative benchmark matrix (docs/matrix-format.md): which scenarios to run, the axes
// (flag values) to cross, repetitions, durations and the seed. Parsed from TOML with toml++;
// every error names file:line:column and what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"

namespace gpc::matrix {

// Where something was declared, for error messages ("quick.toml:12:5").
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const;
};

// One value of an axis. A string or number becomes `--axis VALUE`; `true` becomes the bare
// flag `--axis`; `false` omits the flag (e.g. "no invalidator", "no co-runner").
struct AxisValue {
  enum class Kind { kValue, kFlagOn, kFlagOff };
  Kind kind = Kind::kValue;
  std::string text;  // the value for kValue
  // How the value appears in a cell id: the text, or "on"/"off" for flags.
  std::string label() const;
  bool operator==(const AxisValue&) const = default;
};

struct Axis {
  std::string name;  // the flag name without "--", e.g. "strategy"
  std::vector<AxisValue> values;
  SourcePos where;
};

// A cell is excluded when every listed axis has one of the listed values.
struct Exclusion {
  std::vector<std::pair<std::string, std::vector<AxisValue>>> match;
  SourcePos where;
};

struct ScenarioBlock {
  std::string scenario;     // "cache", "pvclock"
  std::vector<Axis> axes;   // in the scenario's fixed axis order (scenario_axes.hpp)
  std::vector<Exclusion> excludes;
  SourcePos where;
};

// Upper bounds that keep counts in int and planning within seconds (issue 15 items 11, 13).
inline constexpr int64_t kMaxRepetitions = 10'000;
inline constexpr size_t kMaxCells = 1'000'000;
inline constexpr size_t kMaxRuns = 10'000'000;  // cells x repetitions

struct MatrixSpec {
  std::string name;         // [matrix] name, defaults to the file's stem
  std::string origin;       // the file it came from
  std::string source_text;  // the TOML as read (copied into the result directory)
  int repetitions = 5;
  Nanos duration = std::chrono::seconds(3);
  Nanos warmup = std::chrono::seconds(1);     // 0 = no warm-up run
  Nanos grace = std::chrono::seconds(20);     // added to duration to bound each subprocess
  uint64_t seed = 1;
  std::vector<ScenarioBlock> scenarios;
};

// Throws UsageError "FILE:LINE:COL: what is wrong (expected ...)".
MatrixSpec parse_matrix(std::string_view toml_text, const std::string& origin);
MatrixSpec parse_matrix_file(const std::filesystem::path& path);

}  // namespace gpc::matrix
