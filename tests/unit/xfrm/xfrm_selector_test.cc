#include "xfrm/xfrm_selector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace natgate::xfrm {
namespace {

TrafficSelector ts(const char* cidr) { return TrafficSelector::from_subnet(*Subnet::parse(cidr)); }

TEST(XfrmSelector, PortRangesBecomeMasks) {
  EXPECT_EQ(*port_match(0, 65535), (PortMatch{0, 0}));
  EXPECT_EQ(*port_match(500, 500), (PortMatch{500, 0xffff}));
  EXPECT_EQ(*port_match(1024, 2047), (PortMatch{1024, 0xfc00}));
  EXPECT_FALSE(port_match(1000, 2000));  // not a power-of-two block
  EXPECT_FALSE(port_match(1, 2));        // size 2 but not aligned
  EXPECT_FALSE(port_match(10, 9));
}

TEST(XfrmSelector, BuildsAKernelSelectorInNetworkOrder) {
  TrafficSelector src = ts("198.51.100.0/24");
  TrafficSelector dst = ts("203.0.113.7/32");
  dst.ip_protocol = IPPROTO_TCP;
  dst.start_port = dst.end_port = 443;
  auto sel = make_selector(src, dst);
  ASSERT_TRUE(sel) << sel.error();
  EXPECT_EQ(sel->family, AF_INET);
  EXPECT_EQ(sel->prefixlen_s, 24);
  EXPECT_EQ(sel->prefixlen_d, 32);
  EXPECT_EQ(sel->proto, IPPROTO_TCP);
  EXPECT_EQ(sel->saddr.a4, htonl(0xc6336400));
  EXPECT_EQ(sel->daddr.a4, htonl(0xcb007107));
  EXPECT_EQ(sel->dport, htons(443));
  EXPECT_EQ(sel->dport_mask, 0xffff);
  EXPECT_EQ(sel->sport_mask, 0);
  // And back again, as acquires are read.
  // One protocol per selector: it applies to both sides.
  TrafficSelector src_back = selector_source(*sel);
  EXPECT_EQ(src_back.to_string(), "198.51.100.0/24[6]");
  TrafficSelector back = selector_destination(*sel);
  EXPECT_EQ(back.start, dst.start);
  EXPECT_EQ(back.end, dst.end);
  EXPECT_EQ(back.start_port, 443);
  EXPECT_EQ(back.end_port, 443);
}

TEST(XfrmSelector, Ipv6Prefixes) {
  auto sel = make_selector(ts("2001:db8:1::/48"), ts("2001:db8:2::/64"));
  ASSERT_TRUE(sel) << sel.error();
  EXPECT_EQ(sel->family, AF_INET6);
  EXPECT_EQ(sel->prefixlen_s, 48);
  EXPECT_EQ(selector_destination(*sel).to_string(), "2001:db8:2::/64");
}

TEST(XfrmSelector, RefusesWhatAKernelSelectorCannotSay) {
  TrafficSelector range{*IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.9")};
  auto not_prefix = make_selector(range, ts("10.1.0.0/16"));
  ASSERT_FALSE(not_prefix);
  EXPECT_NE(not_prefix.error().find("not a prefix"), std::string::npos);
  EXPECT_FALSE(make_selector(ts("10.0.0.0/8"), ts("2001:db8::/32")));
  TrafficSelector udp = ts("10.0.0.0/8");
  udp.ip_protocol = IPPROTO_UDP;
  TrafficSelector tcp = ts("10.1.0.0/16");
  tcp.ip_protocol = IPPROTO_TCP;
  EXPECT_FALSE(make_selector(udp, tcp));
}

}  // namespace
}  // namespace natgate::xfrm
