// Peer identities in ike::Endpoint: INITIAL_CONTACT (RFC 7296 §2.4) replaces the stale SAs of the
// same identity only, and daemon.limits.ike_sas_per_identity keeps the newest.
#include <gtest/gtest.h>

#include "endpoint_world.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

TEST(EndpointInitialContact, ARestartedPeerReplacesItsStaleSa) {
  EndpointWorld world;
  Node& moon = world.add_node("moon", "192.0.2.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
  world.start_all();
  ASSERT_EQ(sun.established().size(), 1u);
  const SaId stale = sun.established()[0]->id;
  const std::uint32_t stale_child = sun.children.begin()->first;
  world.restart(moon);  // moon forgot everything and connects again with INITIAL_CONTACT
  world.run();
  EXPECT_EQ(sun.counter("ike_sas_dropped_stale"), 1u);
  ASSERT_EQ(sun.endpoint->table().size(), 1u);
  EXPECT_NE(sun.established()[0]->id, stale);
  // The stale pair left the data plane after the new one was in.
  ASSERT_EQ(sun.children.size(), 1u);
  EXPECT_NE(sun.children.begin()->first, stale_child);
  EXPECT_EQ(sun.removes, (std::vector<std::uint32_t>{stale_child}));
  EXPECT_EQ(sun.released_resources, (std::vector<SaId>{stale}));
}

struct EndpointRoadWarriors : ::testing::Test {
  EndpointWorld world;
  Node& gw = world.add_node("gw", "192.0.2.2");
  std::vector<Node*> clients;

  Node& client(const std::string& id, bool initial_contact = true) {
    const std::size_t i = clients.size();
    Node& c = world.add_node("c" + std::to_string(i), "198.18.0." + std::to_string(i + 1));
    auto s = world.dial(c, gw, "rw", id, "gw.lab", ConnectionStart::Initiate);
    auto peer = std::make_shared<PeerConfig>(*s->peer);
    peer->send_initial_contact = initial_contact;
    s->peer = peer;
    clients.push_back(&c);
    return c;
  }
  void connect(Node& c) {
    world.start(c);
    world.run();
  }
};

TEST_F(EndpointRoadWarriors, InitialContactNeverReplacesAnotherIdentity) {
  world.accept_any(gw, "rw", "gw.lab");
  world.start(gw);
  connect(client("carol.lab"));
  connect(client("dave.lab"));
  EXPECT_EQ(gw.established().size(), 2u);
  EXPECT_EQ(gw.counter("ike_sas_dropped_stale"), 0u);
  EXPECT_EQ(gw.children.size(), 2u);
}

TEST_F(EndpointRoadWarriors, TheIdentityCapKeepsTheNewest) {
  gw.ike_sas_per_identity = 1;
  world.accept_any(gw, "rw", "gw.lab");
  world.start(gw);
  Node& first = client("carol.lab", false);
  Node& second = client("carol.lab", false);
  connect(first);
  connect(second);
  EXPECT_EQ(gw.counter("ike_sas_replaced_identity_cap"), 1u);
  ASSERT_EQ(gw.established().size(), 1u);
  EXPECT_EQ(gw.established()[0]->sa->remote().address, second.address);
  ASSERT_EQ(gw.children.size(), 1u);
  EXPECT_EQ(gw.children.begin()->second.remote.address, second.address);
  // The older one heard of it with a Delete.
  EXPECT_TRUE(first.established().empty());
  EXPECT_EQ(second.established().size(), 1u);
}

TEST_F(EndpointRoadWarriors, ACapOfTwoDeletesOnlyTheOldest) {
  gw.ike_sas_per_identity = 2;
  world.accept_any(gw, "rw", "gw.lab");
  world.start(gw);
  Node& a = client("carol.lab", false);
  Node& b = client("carol.lab", false);
  Node& c = client("carol.lab", false);
  connect(a);
  world.advance(1s);
  connect(b);
  world.advance(1s);
  connect(c);
  EXPECT_EQ(gw.counter("ike_sas_replaced_identity_cap"), 1u);
  EXPECT_EQ(gw.established().size(), 2u);
  EXPECT_TRUE(a.established().empty());
  EXPECT_EQ(b.established().size(), 1u);
  EXPECT_EQ(c.established().size(), 1u);
}

}  // namespace
}  // namespace natgate::ike::testing
