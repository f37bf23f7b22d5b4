// TAP version 13 (testanything.org) as `prove` and kselftest read it: a plan line, one
// point per test with an optional SKIP/TODO directive, and an indented YAML block of
// diagnostics under a point.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace gpc::stress {

// Diagnostics of one point, in order. Multi-line values become YAML literal blocks.
using TapDiagnostics = std::vector<std::pair<std::string, std::string>>;

class TapWriter {
 public:
  explicit TapWriter(std::FILE* out) : out_(out) {}

  void version_and_plan(int points);  // "TAP version 13" and "1..N"
  // "ok N - description # DIRECTIVE" (directive: "" / "SKIP reason" / "TODO reason").
  void point(bool ok, const std::string& description, const std::string& directive = "",
             const TapDiagnostics& diagnostics = {});
  void comment(const std::string& text);  // "# text", one line per line of text
  void bail_out(const std::string& reason);
  int points_written() const { return written_; }

 private:
  std::FILE* out_;
  int written_ = 0;
};

// A TAP description may not contain '#' (it starts a directive) or a newline.
std::string tap_escape(const std::string& text);
// A YAML scalar that round-trips any one-line string: single-quoted, quotes doubled.
std::string yaml_quote(const std::string& text);

}  // namespace gpc::stress
