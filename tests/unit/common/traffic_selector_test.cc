#include "common/traffic_selector.h"

#include <gtest/gtest.h>

#include <string>

namespace natgate {

TEST(TrafficSelector, NarrowsToIntersection) {
  auto wide = TrafficSelector::from_subnet(*Subnet::parse("10.0.0.0/8"));
  auto narrow = TrafficSelector::from_subnet(*Subnet::parse("10.1.0.0/24"));
  auto both = wide.intersect(narrow);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->to_string(), "10.1.0.0/24");
  auto other = TrafficSelector::from_subnet(*Subnet::parse("192.168.0.0/16"));
  EXPECT_FALSE(wide.intersect(other));
}

TEST(TrafficSelector, PrintsRangesAndPorts) {
  TrafficSelector ts{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.9"), 6, 22, 22};
  EXPECT_EQ(ts.to_string(), "10.0.0.1-10.0.0.9[6/22]");
  EXPECT_TRUE(ts.contains(*IpAddress::parse("10.0.0.5")));
  EXPECT_FALSE(ts.contains(*IpAddress::parse("10.0.0.10")));
}

// as_subnet is bit arithmetic (issue 13): every prefix length of both families round-trips, and
// ranges that are not one prefix (misaligned start, end short of the prefix's last) are not subnets.
TEST(TrafficSelector, AsSubnetFindsThePrefixOfEveryLength) {
  for (const char* base : {"10.96.0.0", "0.0.0.0", "fd00::"}) {
    const auto addr = *IpAddress::parse(base);
    const unsigned max = addr.is_v4() ? 32 : 128;
    for (unsigned p = 0; p <= max; ++p) {
      Subnet want = *Subnet::parse(std::string(base) + "/" + std::to_string(p));
      auto got = TrafficSelector::from_subnet(want).as_subnet();
      ASSERT_TRUE(got) << want.to_string();
      EXPECT_EQ(*got, want);
    }
  }
  auto host = TrafficSelector::from_subnet(*Subnet::parse("10.96.0.7/32")).as_subnet();
  ASSERT_TRUE(host);
  EXPECT_EQ(host->to_string(), "10.96.0.7/32");
  TrafficSelector misaligned{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.255")};
  EXPECT_FALSE(misaligned.as_subnet());
  TrafficSelector short_end{*IpAddress::parse("10.0.0.0"), *IpAddress::parse("10.0.0.254")};
  EXPECT_FALSE(short_end.as_subnet());
  TrafficSelector two_blocks{*IpAddress::parse("10.0.0.0"), *IpAddress::parse("10.0.1.127")};
  EXPECT_FALSE(two_blocks.as_subnet());
  TrafficSelector mixed{*IpAddress::parse("10.0.0.0"), *IpAddress::parse("fd00::")};
  EXPECT_FALSE(mixed.as_subnet());
  EXPECT_EQ(two_blocks.to_string(), "10.0.0.0-10.0.1.127");
}

}  // namespace natgate
