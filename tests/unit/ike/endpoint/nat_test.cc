// NAT traversal in ike::Endpoint: RFC 3948 §4 keepalives only from the side behind the NAT, and
// the peer's NAT mapping changing under authenticated IKE or ESP (RFC 7296 §2.23).
#include <gtest/gtest.h>

#include "endpoint_world.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

struct EndpointNat : ::testing::Test {
  EndpointWorld world;
  Node& moon = world.add_node("moon", "10.99.0.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  std::shared_ptr<ConnectionSettings> conn;

  void behind_nat() {
    moon.nat_public = endpoint("198.51.100.1", 0).address;
    moon.nat_shift = 1000;
  }
  void establish() {
    conn = world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
    world.start_all();
    ASSERT_EQ(moon.established().size(), 1u);
    ASSERT_EQ(sun.established().size(), 1u);
  }
  std::uint32_t sun_child() { return sun.children.begin()->first; }
};

TEST_F(EndpointNat, KeepalivesGoOnlyFromTheSideBehindTheNat) {
  behind_nat();
  establish();
  EXPECT_TRUE(moon.established()[0]->sa->nat().local_behind_nat);
  ASSERT_TRUE(moon.timer(EndpointTimer::Keepalive));
  EXPECT_EQ(*moon.timer(EndpointTimer::Keepalive), world.now + 20s);
  EXPECT_FALSE(sun.timer(EndpointTimer::Keepalive));
  world.advance(61s);
  ASSERT_EQ(moon.keepalives.size(), 3u);
  // From the NAT-T port to the peer's NAT-T port (RFC 3948 §2.2).
  EXPECT_EQ(moon.keepalives[0].local, (natgate::Endpoint{moon.address, 4500}));
  EXPECT_EQ(moon.keepalives[0].remote, (natgate::Endpoint{sun.address, 4500}));
  EXPECT_TRUE(sun.keepalives.empty());
}

TEST_F(EndpointNat, NoNatNoKeepalives) {
  establish();
  EXPECT_FALSE(moon.timer(EndpointTimer::Keepalive));
  EXPECT_FALSE(sun.timer(EndpointTimer::Keepalive));
  world.advance(120s);
  EXPECT_TRUE(moon.keepalives.empty());
  EXPECT_TRUE(sun.keepalives.empty());
}

TEST_F(EndpointNat, AZeroKeepaliveIntervalTurnsThemOff) {
  behind_nat();
  conn = world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
  conn->keepalive = 0s;
  world.start_all();
  ASSERT_EQ(moon.established().size(), 1u);
  world.advance(61s);
  EXPECT_TRUE(moon.keepalives.empty());
}

TEST_F(EndpointNat, ARebindingSeenInIkeMovesTheChildSas) {
  behind_nat();
  world.ike->dpd_interval = 10s;
  establish();
  EXPECT_EQ(sun.children.begin()->second.remote, (natgate::Endpoint{*moon.nat_public, 5500}));
  moon.nat_shift = 2000;  // the NAT forgot the mapping and made another
  world.advance(11s);     // moon's liveness check comes from the new port
  EXPECT_EQ(sun.counter("peer_address_changes"), 1u);
  ASSERT_EQ(sun.moves.size(), 1u);
  EXPECT_EQ(sun.moves[0].remote, (natgate::Endpoint{*moon.nat_public, 6500}));
  EXPECT_EQ(sun.children.begin()->second.remote, (natgate::Endpoint{*moon.nat_public, 6500}));
  EXPECT_EQ(sun.established()[0]->peer, (natgate::Endpoint{*moon.nat_public, 6500}));
}

TEST_F(EndpointNat, AuthenticatedEspFromANewAddressMovesTheChildSasAndChecksLiveness) {
  behind_nat();
  establish();
  moon.nat_shift = 3000;
  const natgate::Endpoint moved{*moon.nat_public, 7500};
  const std::size_t before = world.wire.size();
  world.apply(sun, sun.endpoint->peer_moved(sun_child(), moved, world.now));
  EXPECT_EQ(sun.counter("peer_address_changes_esp"), 1u);
  ASSERT_EQ(sun.moves.size(), 1u);
  EXPECT_EQ(sun.moves[0].remote, moved);
  // The liveness check goes to where the ESP came from (the IkeSa does not know yet).
  ASSERT_EQ(world.wire.size(), before + 1);
  EXPECT_EQ(world.wire.back().datagram.remote, moved);
  world.run();
  EXPECT_EQ(world.wire.size(), before + 2);  // answered through the new mapping
  EXPECT_EQ(sun.established()[0]->sa->remote(), moved);
  EXPECT_FALSE(sun.established()[0]->peer_override);
}

TEST_F(EndpointNat, EspFromANewAddressIsIgnoredWhenThePeerIsNotBehindANat) {
  establish();
  const std::size_t before = world.wire.size();
  world.apply(sun, sun.endpoint->peer_moved(sun_child(), endpoint("203.0.113.9", 4500), world.now));
  EXPECT_TRUE(sun.moves.empty());
  EXPECT_EQ(world.wire.size(), before);
  EXPECT_EQ(sun.counter("peer_address_changes_esp"), 0u);
  EXPECT_TRUE(sun.logged("ignored: the peer is not behind a NAT"));
}

}  // namespace
}  // namespace natgate::ike::testing
