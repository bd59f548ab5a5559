// Many SAs on one ike::Endpoint: 200 road warriors, each datagram routed to its own SA.
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
  EXPECT_EQ(world.wire.size(), before + 2 * kClients);
  EXPECT_EQ(gw.counter("ike_unknown_spi"), 0u);
  EXPECT_EQ(gw.counter("ike_datagrams_rejected"), 0u);
  EXPECT_EQ(gw.established().size(), static_cast<std::size_t>(kClients));
}

}  // namespace
}  // namespace natgate::ike::testing
