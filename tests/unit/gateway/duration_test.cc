#include "gateway/config/duration.h"

#include <gtest/gtest.h>

namespace natgate::gateway {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesEachUnit) {
  EXPECT_EQ(parse_duration("30s"), Duration(30s));
  EXPECT_EQ(parse_duration("5m"), Duration(300s));
  EXPECT_EQ(parse_duration("4h"), Duration(4 * 3600s));
  EXPECT_EQ(parse_duration("1d"), Duration(86400s));
  EXPECT_EQ(parse_duration("0s"), Duration(0s));
  EXPECT_EQ(parse_duration("90m"), Duration(5400s));
}

TEST(Duration, RefusesAnythingElse) {
  for (const char* bad : {"", "s", "30", "30x", "-1s", "+1s", "1.5h", " 30s", "30s ", "30 s", "3os", "1w",
                          "30S", "h4", "99999999999999999999s"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Duration, RefusesMoreThanTenYears) {
  EXPECT_TRUE(parse_duration("3650d").has_value());
  EXPECT_FALSE(parse_duration("3651d").has_value());
  EXPECT_FALSE(parse_duration("9223372036854775807s").has_value());
}

TEST(Duration, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(300s), "5m");
  EXPECT_EQ(format_duration(4 * 3600s), "4h");
  EXPECT_EQ(format_duration(2 * 86400s), "2d");
  for (const char* text : {"30s", "5m", "4h", "1d", "25h"})
    EXPECT_EQ(parse_duration(format_duration(*parse_duration(text))), parse_duration(text)) << text;
}

}  // namespace
}  // namespace natgate::gateway
