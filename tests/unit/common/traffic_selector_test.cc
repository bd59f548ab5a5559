#include "common/traffic_selector.h"

#include <gtest/gtest.h>

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

}  // namespace natgate
