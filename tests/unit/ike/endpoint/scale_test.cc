// Many SAs on one ike::Endpoint: 200 road warriors, each datagram routed to its own SA; among 300
// of one any-identity connection, INITIAL_CONTACT (RFC 7296 §2.4) and the identity cap replace
// only the SAs of the identity that came back (IkeSaTable::of_identity, not the connection's).
#include <gtest/gtest.h>

#include <set>

#include "endpoint_world.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

TEST(EndpointManySas, TwoHundredRoadWarriorsEachReachTheirOwnSa) {
  constexpr int kClients = 200;
  EndpointWorld world;
  Node& gw = world.add_node("gw", "192.0.2.2");
  world.ike->dpd_interval = 30s;
  world.accept_any(gw, "rw", "gw.lab");
  std::vector<Node*> clients;
  for (int i = 0; i < kClients; ++i) {
    Node& c = world.add_node("c" + std::to_string(i),
                             "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
    world.dial(c, gw, "rw", "client" + std::to_string(i) + ".lab", "gw.lab", ConnectionStart::Initiate);
    clients.push_back(&c);
  }
  world.start_all();
  ASSERT_EQ(gw.established().size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(gw.counter("ike_sas_established"), static_cast<std::uint64_t>(kClients));
  EXPECT_EQ(gw.children.size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(gw.endpoint->table().child_count(), static_cast<std::size_t>(kClients));
  std::set<IkeSpi> spis;
  for (Node* c : clients) {
    ASSERT_EQ(c->established().size(), 1u) << c->name;
    ASSERT_EQ(c->children.size(), 1u) << c->name;
    // The gateway's pair for this client goes to this client, under the SA of its identity.
    const auto& [in, child] = *c->children.begin();
    auto it = gw.children.find(child.outbound_spi);
    ASSERT_NE(it, gw.children.end()) << c->name;
    EXPECT_EQ(it->second.outbound_spi, in);
    EXPECT_EQ(it->second.remote.address, c->address);
    const IkeSaEntry* e = gw.endpoint->table().find(it->second.sa);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->remote_id->to_string(), "fqdn:client" + c->name.substr(1) + ".lab");
    spis.insert(e->sa->spi_r());
  }
  EXPECT_EQ(spis.size(), static_cast<std::size_t>(kClients));
  // A round of liveness checks: every one answered by its own SA, nothing unknown or dropped.
  const std::size_t before = world.wire.size();
  world.advance(31s);
  EXPECT_EQ(world.wire.size(), before + 2 * static_cast<std::size_t>(kClients));
  EXPECT_EQ(gw.counter("ike_unknown_spi"), 0u);
  EXPECT_EQ(gw.counter("ike_datagrams_rejected"), 0u);
  EXPECT_EQ(gw.established().size(), static_cast<std::size_t>(kClients));
}

// 300 road warriors of one any-identity connection, each with its own identity.
struct EndpointManyIdentities : ::testing::Test {
  static constexpr int kClients = 300;
  EndpointWorld world;
  Node& gw = world.add_node("gw", "192.0.2.2");
  std::vector<Node*> clients;

  Node& client(const std::string& id, bool initial_contact) {
    const std::size_t i = clients.size();
    Node& c = world.add_node("c" + std::to_string(i),
                             "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
    auto s = world.dial(c, gw, "rw", id, "gw.lab", ConnectionStart::Initiate);
    auto peer = std::make_shared<PeerConfig>(*s->peer);
    peer->send_initial_contact = initial_contact;
    s->peer = peer;
    clients.push_back(&c);
    return c;
  }
  void bring_up(bool initial_contact) {
    world.accept_any(gw, "rw", "gw.lab");
    for (int i = 0; i < kClients; ++i) client("client" + std::to_string(i) + ".lab", initial_contact);
    world.start_all();
    ASSERT_EQ(gw.established().size(), static_cast<std::size_t>(kClients));
  }
  // The gateway's SA of each client, by the client's index.
  std::vector<SaId> gateway_sas() const {
    std::vector<SaId> out;
    for (const Node* c : clients) {
      const auto& [in, child] = *c->children.begin();
      out.push_back(gw.children.at(child.outbound_spi).sa);
    }
    return out;
  }
};

TEST_F(EndpointManyIdentities, InitialContactReplacesOnlyTheReconnectingClientsSa) {
  bring_up(true);
  EXPECT_EQ(gw.counter("ike_sas_dropped_stale"), 0u);
  const std::vector<SaId> before = gateway_sas();
  Node& back = *clients.at(137);
  world.restart(back);  // forgot its SA; connects again with INITIAL_CONTACT
  world.run();
  EXPECT_EQ(gw.counter("ike_sas_dropped_stale"), 1u);
  ASSERT_EQ(gw.established().size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(gw.children.size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(gw.endpoint->table().find(before[137]), nullptr);
  EXPECT_EQ(gw.released_resources, (std::vector<SaId>{before[137]}));
  const std::vector<SaId> after = gateway_sas();
  for (int i = 0; i < kClients; ++i) {
    if (i == 137) continue;
    EXPECT_EQ(after[i], before[i]) << clients[i]->name;
    EXPECT_EQ(clients[i]->established().size(), 1u) << clients[i]->name;
  }
  EXPECT_NE(after[137], before[137]);
  ASSERT_NE(gw.endpoint->table().find(after[137]), nullptr);
  EXPECT_EQ(gw.endpoint->table().find(after[137])->remote_id->to_string(), "fqdn:client137.lab");
}

TEST_F(EndpointManyIdentities, TheIdentityCapReplacesOnlyTheSameIdentity) {
  gw.ike_sas_per_identity = 1;
  bring_up(false);
  EXPECT_EQ(gw.counter("ike_sas_replaced_identity_cap"), 0u);
  const std::vector<SaId> before = gateway_sas();
  // A second device of client42's identity comes up.
  Node& second = client("client42.lab", false);
  world.start(second);
  world.run();
  EXPECT_EQ(gw.counter("ike_sas_replaced_identity_cap"), 1u);
  ASSERT_EQ(gw.established().size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(gw.endpoint->table().find(before[42]), nullptr);
  EXPECT_TRUE(clients[42]->established().empty());  // told with a Delete
  EXPECT_EQ(second.established().size(), 1u);
  for (int i = 0; i < kClients; ++i) {
    if (i == 42) continue;
    ASSERT_NE(gw.endpoint->table().find(before[i]), nullptr) << clients[i]->name;
    EXPECT_EQ(clients[i]->established().size(), 1u) << clients[i]->name;
  }
}

}  // namespace
}  // namespace natgate::ike::testing
