#include "env/preempt_model.hpp"

#include <gtest/gtest.h>

namespace gpc {
namespace {

TEST(PreemptModel, DebugfsShowsTheCurrentModeInParentheses) {
  EXPECT_EQ(preempt_from_debugfs("none voluntary (full) lazy\n"), "full");
  EXPECT_EQ(preempt_from_debugfs("(none) voluntary full"), "none");
  EXPECT_EQ(preempt_from_debugfs("none voluntary full"), std::nullopt);
}

TEST(PreemptModel, CmdlineParameter) {
  EXPECT_EQ(preempt_from_cmdline("console=ttyS0 preempt=voluntary quiet"), "voluntary");
  EXPECT_EQ(preempt_from_cmdline("preempt=lazy"), "lazy");
  EXPECT_EQ(preempt_from_cmdline("console=ttyS0 quiet"), std::nullopt);
  EXPECT_EQ(preempt_from_cmdline("nopreempt=full"), std::nullopt);
}

TEST(PreemptModel, ConfigChoice) {
  EXPECT_EQ(preempt_from_config("CONFIG_PREEMPT_BUILD=y\nCONFIG_PREEMPT_NONE=y\n# CONFIG_PREEMPT is not set\n"
                                "CONFIG_PREEMPT_DYNAMIC=y\n"),
            "none");
  EXPECT_EQ(preempt_from_config("CONFIG_PREEMPT=y\nCONFIG_PREEMPT_COUNT=y\n"), "full");
  EXPECT_EQ(preempt_from_config("CONFIG_PREEMPT_VOLUNTARY=y\n"), "voluntary");
  EXPECT_EQ(preempt_from_config("CONFIG_PREEMPT_LAZY=y\n"), "lazy");
  EXPECT_EQ(preempt_from_config("CONFIG_PREEMPT_RT=y\nCONFIG_PREEMPT=y\n"), "rt");
  EXPECT_EQ(preempt_from_config("# CONFIG_PREEMPT_RT is not set\n"), std::nullopt);
}

TEST(PreemptModel, UnameVersion) {
  EXPECT_EQ(preempt_from_uname("#1 SMP PREEMPT_DYNAMIC @0"), "dynamic");
  EXPECT_EQ(preempt_from_uname("#1 SMP PREEMPT_RT Fri"), "rt");
  EXPECT_EQ(preempt_from_uname("#1 SMP PREEMPT_LAZY"), "lazy");
  EXPECT_EQ(preempt_from_uname("#1 SMP PREEMPT Debian"), "full");
  EXPECT_EQ(preempt_from_uname("#1 SMP Debian 6.1.0"), "none");
}

TEST(PreemptModel, DetectNamesAModelAndItsSource) {
  const PreemptModel m = detect_preempt_model();
  EXPECT_FALSE(m.uname_version.empty());
  EXPECT_FALSE(m.source.empty());
  // A known model always comes with what cond_resched() does under it.
  if (m.model != "unknown") {
    EXPECT_NE(m.cond_resched().find("preempt="), std::string::npos) << m.model;
  }
  const auto j = to_json(m);
  EXPECT_EQ(j.at("model"), m.model);
  EXPECT_TRUE(j.contains("cond_resched"));
}

}  // namespace
}  // namespace gpc
