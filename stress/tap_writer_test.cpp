#include "stress/tap_writer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

namespace gpc::stress {
namespace {

// Captures what a TapWriter prints.
std::string capture(const std::function<void(TapWriter&)>& fn) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    TapWriter w(f);
    fn(w);
  }
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

TEST(TapWriter, PlanPointsDirectivesAndYaml) {
  const std::string out = capture([](TapWriter& w) {
    w.version_and_plan(3);
    w.point(true, "a");
    w.point(true, "b", "SKIP 1 NUMA node");
    w.point(false, "c", "TODO unsafe by design", {{"unsafe_violations", "3"}, {"output", "line 1\nline 2"}});
    EXPECT_EQ(w.points_written(), 3);
  });
  EXPECT_EQ(out,
            "TAP version 13\n1..3\nok 1 - a\nok 2 - b # SKIP 1 NUMA node\n"
            "not ok 3 - c # TODO unsafe by design\n  ---\n  unsafe_violations: '3'\n  output: |\n"
            "    line 1\n    line 2\n  ...\n");
}

TEST(TapWriter, HashInADescriptionCannotStartADirective) {
  const std::string out = capture([](TapWriter& w) { w.point(false, "x # SKIP fake"); });
  EXPECT_EQ(out, "not ok 1 - x \\# SKIP fake\n");
  EXPECT_EQ(tap_escape("a\nb"), "a b");
}

TEST(TapWriter, YamlQuotesRoundTrip) {
  EXPECT_EQ(yaml_quote("it's: #1"), "'it''s: #1'");
}

TEST(TapWriter, CommentsAndBailOut) {
  const std::string out = capture([](TapWriter& w) {
    w.comment("one\ntwo");
    w.bail_out("interrupted");
  });
  EXPECT_EQ(out, "# one\n# two\nBail out! interrupted\n");
}

}  // namespace
}  // namespace gpc::stress
