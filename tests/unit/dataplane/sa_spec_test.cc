// Source and destination of an SA follow from its direction and the named pair; both backends
// and the installer move SAs through set_outer_ends, so a swap here would break every move.
#include "dataplane/sa_spec.h"

#include <gtest/gtest.h>

#include "dataplane/event_log.h"

namespace natgate::dataplane {
namespace {

Endpoint ep(const char* a, std::uint16_t port) { return {*IpAddress::parse(a), port}; }

const EndpointPair kEnds{.local = ep("192.0.2.1", 4500), .remote = ep("198.51.100.7", 40001)};

TEST(SaSpecOuterEnds, AnInboundSaRunsFromTheRemoteToUs) {
  SaSpec sa;
  sa.direction = Direction::In;
  set_outer_ends(sa, kEnds, true);
  EXPECT_EQ(sa.src, kEnds.remote);
  EXPECT_EQ(sa.dst, kEnds.local);
  ASSERT_TRUE(sa.encap);
  EXPECT_EQ(*sa.encap, (UdpEncap{40001, 4500}));
  EXPECT_EQ(outer_ends(sa), kEnds);
}

TEST(SaSpecOuterEnds, AnOutboundSaRunsFromUsToTheRemote) {
  SaSpec sa;
  sa.direction = Direction::Out;
  set_outer_ends(sa, kEnds, true);
  EXPECT_EQ(sa.src, kEnds.local);
  EXPECT_EQ(sa.dst, kEnds.remote);
  ASSERT_TRUE(sa.encap);
  EXPECT_EQ(*sa.encap, (UdpEncap{4500, 40001}));
  EXPECT_EQ(outer_ends(sa), kEnds);
}

TEST(SaSpecOuterEnds, PlainEspDropsTheEncapsulation) {
  SaSpec sa;
  sa.direction = Direction::Out;
  sa.encap = UdpEncap{4500, 4500};
  set_outer_ends(sa, kEnds, false);
  EXPECT_FALSE(sa.encap);
  EXPECT_EQ(sa.dst.address, kEnds.remote.address);
}

// With encapsulation the ports are the encapsulation's (the kernel reads them from there).
TEST(SaSpecOuterEnds, EncapsulationPortsWin) {
  SaSpec sa;
  sa.direction = Direction::In;
  sa.src = ep("198.51.100.7", 0);
  sa.dst = ep("192.0.2.1", 0);
  sa.encap = UdpEncap{40001, 4500};
  EXPECT_EQ(outer_ends(sa), kEnds);
}

TEST(EventLog, KeepsEachKindInOrder) {
  EventLog log;
  EventListener& listener = log;
  listener.on_expire(ExpireEvent{1, kEnds.local.address, 7, false});
  listener.on_mapping(MappingEvent{2, kEnds.local.address, 7, kEnds.remote, ep("198.51.100.7", 40002)});
  listener.on_expire(ExpireEvent{1, kEnds.local.address, 7, true});
  ASSERT_EQ(log.expires.size(), 2u);
  EXPECT_FALSE(log.expires[0].hard);
  EXPECT_TRUE(log.expires[1].hard);
  ASSERT_EQ(log.mappings.size(), 1u);
  EXPECT_EQ(log.mappings[0].new_remote.port, 40002);
  EXPECT_TRUE(log.acquires.empty());
}

}  // namespace
}  // namespace natgate::dataplane
