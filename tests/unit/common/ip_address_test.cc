#include "common/ip_address.h"

#include <gtest/gtest.h>

namespace natgate {

TEST(IpAddress, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(IpAddress::parse("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_EQ(IpAddress::parse("2001:db8::1")->to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("192.0.2.256"));
  EXPECT_EQ(IpAddress::parse("10.1.2.3")->v4_host_order(), 0x0a010203u);
}

TEST(Subnet, ClearsHostBitsAndContains) {
  auto s = Subnet::parse("10.1.0.7/24");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to_string(), "10.1.0.0/24");
  EXPECT_EQ(s->last().to_string(), "10.1.0.255");
  EXPECT_TRUE(s->contains(*IpAddress::parse("10.1.0.200")));
  EXPECT_FALSE(s->contains(*IpAddress::parse("10.1.1.1")));
  EXPECT_FALSE(Subnet::parse("10.1.0.0/33"));
  EXPECT_FALSE(Subnet::parse("10.1.0.0/"));
  EXPECT_EQ(Subnet::parse("fd00::/64")->last().to_string(), "fd00::ffff:ffff:ffff:ffff");
}

TEST(Endpoint, RoundTripsThroughSockaddr) {
  Endpoint e{*IpAddress::parse("2001:db8::5"), 4500};
  sockaddr_storage ss;
  socklen_t len = e.to_sockaddr(ss);
  auto back = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
  EXPECT_EQ(back->to_string(), "[2001:db8::5]:4500");
}

}  // namespace natgate
