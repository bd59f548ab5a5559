// Routing in ike::Endpoint: datagrams reach the SA our SPI names (RFC 7296 §2.6), a retransmitted
// IKE_SA_INIT the half-open SA it created (§2.1), anything else is counted and dropped.
#include <gtest/gtest.h>

#include "endpoint_world.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

struct EndpointTwoSites : ::testing::Test {
  EndpointWorld world;
  Node& moon = world.add_node("moon", "192.0.2.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  std::shared_ptr<ConnectionSettings> conn =
      world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
};

TEST_F(EndpointTwoSites, InitiateEstablishesAndInstallsOneChildSaOnEachSide) {
  world.start_all();
  ASSERT_EQ(moon.established().size(), 1u);
  ASSERT_EQ(sun.established().size(), 1u);
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 1u);
  EXPECT_EQ(moon.counter("ike_sas_established"), 1u);
  EXPECT_EQ(sun.counter("ike_sas_established"), 1u);
  // IKE_SA_INIT and IKE_AUTH: two requests, two responses.
  EXPECT_EQ(world.wire.size(), 4u);
  ASSERT_EQ(moon.children.size(), 1u);
  ASSERT_EQ(sun.children.size(), 1u);
  const auto& [moon_in, moon_child] = *moon.children.begin();
  const auto& [sun_in, sun_child] = *sun.children.begin();
  // Each side's inbound SPI is the other's outbound one.
  EXPECT_EQ(moon_child.outbound_spi, sun_in);
  EXPECT_EQ(sun_child.outbound_spi, moon_in);
  EXPECT_EQ(moon_child.remote, (natgate::Endpoint{sun.address, 500}));
  EXPECT_EQ(moon.endpoint->table().child_count(), 1u);
  EXPECT_EQ(sun.counter("child_sas_installed"), 1u);
}

TEST_F(EndpointTwoSites, SaTimersComeBackAsEndpointTimersOfTheirSa) {
  world.ike->dpd_interval = 30s;
  world.start_all();
  const IkeSaEntry* e = moon.established().front();
  auto dpd = moon.timer(EndpointTimer::Dpd, e->id);
  ASSERT_TRUE(dpd);
  EXPECT_EQ(*dpd, world.now + 30s);
  const std::size_t before = world.wire.size();
  world.advance(31s);
  // The liveness check went out and was answered.
  EXPECT_EQ(world.wire.size(), before + 2);
  EXPECT_EQ(moon.established().size(), 1u);
}

TEST_F(EndpointTwoSites, DatagramForAnUnknownSpiIsCountedAndDropped) {
  world.start_all();
  // A copy of moon's IKE_AUTH request with a responder SPI sun never gave out.
  Bytes bytes = world.wire.at(2).datagram.bytes;
  bytes[8] ^= 0xff;
  ReceivedDatagram in{bytes, natgate::Endpoint{sun.address, 500}, natgate::Endpoint{moon.address, 500},
                      false};
  EndpointOutput out = sun.endpoint->handle_datagram(in, world.now);
  EXPECT_TRUE(out.all<SendDatagram>().empty());
  EXPECT_EQ(sun.counter("ike_unknown_spi"), 1u);
  EXPECT_EQ(sun.established().size(), 1u);
}

TEST_F(EndpointTwoSites, GarbageIsCountedAsMalformed) {
  world.start_all();
  const Bytes junk(7, 0x42);
  EndpointOutput out =
      sun.endpoint->handle_datagram(ReceivedDatagram{junk, natgate::Endpoint{sun.address, 500},
                                                     natgate::Endpoint{moon.address, 500}, false},
                                    world.now);
  EXPECT_TRUE(out.all<SendDatagram>().empty());
  EXPECT_EQ(sun.counter("malformed_dropped"), 1u);
  EXPECT_EQ(sun.counter("ike_datagrams_received"), 3u);
}

TEST_F(EndpointTwoSites, RetransmittedIkeSaInitReachesTheSameHalfOpenSa) {
  // Lose sun's IKE_SA_INIT response once: moon retransmits the same request.
  bool lost = false;
  world.deliver_if = [&](const WirePacket& p) {
    if (p.from == 1 && !lost) return !(lost = true);
    return true;
  };
  world.start_all();
  EXPECT_EQ(sun.endpoint->table().size(), 1u);
  world.advance(1500ms);
  // One responder SA only: the retransmission found it by moon's address and SPIi.
  EXPECT_EQ(sun.endpoint->dispatcher().counters().created, 1u);
  ASSERT_EQ(sun.established().size(), 1u);
  ASSERT_EQ(moon.established().size(), 1u);
  EXPECT_EQ(sun.endpoint->table().size(), 1u);
}

TEST_F(EndpointTwoSites, LostRequestsAreRetransmittedUntilTheyArrive) {
  // The first IKE_SA_INIT and the first IKE_AUTH request are lost.
  int lost = 0;
  world.deliver_if = [&](const WirePacket& p) {
    if (p.from == 0 && lost < 2 && (world.wire.size() == 1 || world.wire.size() == 4)) {
      ++lost;
      return false;
    }
    return true;
  };
  world.start_all();
  EXPECT_TRUE(moon.established().empty());
  world.advance(10s);
  EXPECT_EQ(lost, 2);
  ASSERT_EQ(moon.established().size(), 1u);
  ASSERT_EQ(sun.established().size(), 1u);
  EXPECT_EQ(moon.children.size(), 1u);
  EXPECT_EQ(sun.children.size(), 1u);
}

TEST(EndpointRouting, TwoInitiatorsReachTheirOwnSasOnOneResponder) {
  EndpointWorld world;
  Node& a = world.add_node("a", "192.0.2.1");
  Node& b = world.add_node("b", "192.0.2.3");
  Node& gw = world.add_node("gw", "192.0.2.2");
  world.connect(a, gw, "to-a", "a.lab", "gw.lab", ConnectionStart::Initiate);
  world.connect(b, gw, "to-b", "b.lab", "gw.lab", ConnectionStart::Initiate);
  world.start_all();
  ASSERT_EQ(gw.established().size(), 2u);
  EXPECT_EQ(gw.endpoint->table().of_connection("to-a").size(), 1u);
  EXPECT_EQ(gw.endpoint->table().of_connection("to-b").size(), 1u);
  EXPECT_EQ(gw.children.size(), 2u);
  // Each client's pair is tied to its own IKE SA on the gateway.
  for (const auto& [in, child] : gw.children) {
    const IkeSaEntry* e = gw.endpoint->table().find(child.sa);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->connection(), child.connection);
  }
}

TEST_F(EndpointTwoSites, StatelessRefusalKeepsNoSa) {
  // sun offers nothing moon accepts: IKE_SA_INIT is refused and sun keeps no SA.
  world.start(sun);
  sun.configs.ike = std::make_shared<IkeSaConfig>(*world.ike);
  sun.configs.ike->proposals = {ike_proposal("aes128-sha256-modp2048")};
  world.start(moon);
  world.run();
  EXPECT_EQ(sun.endpoint->table().size(), 0u);
  EXPECT_EQ(sun.endpoint->dispatcher().counters().refused, 1u);
  EXPECT_TRUE(sun.logged("IKE_SA_INIT from 192.0.2.1:500 refused: we sent NO_PROP"));
}

}  // namespace
}  // namespace natgate::ike::testing
