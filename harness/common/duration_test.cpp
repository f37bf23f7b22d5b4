#include "common/duration.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace gpc {
namespace {

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("250ns").count(), 250);
  EXPECT_EQ(parse_duration("10us").count(), 10'000);
  EXPECT_EQ(parse_duration("1.5ms").count(), 1'500'000);
  EXPECT_EQ(parse_duration("3s").count(), 3'000'000'000);
  EXPECT_EQ(parse_duration("2m").count(), 120'000'000'000);
  EXPECT_EQ(parse_duration("0s").count(), 0);
}

TEST(ParseDuration, RejectsWithAMessageNamingTheFix) {
  for (const char* bad : {"", "3", "s", "3 s", "3h", "-1s", "abc", "1e30s"}) {
    try {
      parse_duration(bad, "--duration");
      FAIL() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--duration"), std::string::npos) << e.what();
    }
  }
}

TEST(ParseRate, AcceptsPlainAndSuffixedRates) {
  EXPECT_DOUBLE_EQ(parse_rate_hz("1000"), 1000);
  EXPECT_DOUBLE_EQ(parse_rate_hz("20k"), 20000);
  EXPECT_DOUBLE_EQ(parse_rate_hz("1.5M"), 1.5e6);
  EXPECT_DOUBLE_EQ(parse_rate_hz("0"), 0);
  EXPECT_THROW(parse_rate_hz("-5"), UsageError);
  EXPECT_THROW(parse_rate_hz("fast"), UsageError);
}

TEST(FormatNs, PicksAReadableUnit) {
  EXPECT_EQ(format_ns(124), "124 ns");
  EXPECT_EQ(format_ns(37000), "37.0 us");
  EXPECT_EQ(format_ns(1.5e6), "1.50 ms");
}

}  // namespace
}  // namespace gpc
