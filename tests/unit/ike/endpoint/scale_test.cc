// Many SAs on one ike::Endpoint: 200 road warriors, each datagram routed to its own SA; among 300
// of one any-identity connection, INITIAL_CONTACT (RFC 7296 §2.4) and the identity cap replace
// only the SAs of the identity that came back (IkeSaTable::of_identity, not the connection's).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstddef>
#include <new>
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

// Memory per road warrior on the responder's Endpoint (issue 13: <= 8 KiB per road warrior for the
// whole daemon, docs/performance.md "Memory per road warrior"): the heap the gateway's Endpoint
// frees when it goes, with 300 IKE SAs and their CHILD SAs up, divided by 300. It holds the IKE SA
// objects, their keys' protectors, the cached last responses and the SA table; the clients' state is
// untouched. Before the memory work the daemon's heaptrack profile showed ~7 KB more per SA in these
// objects (two keyed AES-GCM contexts per direction, two empty std::deques, the IKE_SA_INIT
// messages kept after IKE_AUTH).
TEST(EndpointManySas, ResponderHeapPerRoadWarriorStaysSmall) {
  {
    // Under ASan (or any allocator that is not glibc's) mallinfo2 does not see operator new.
    // (An explicit ::operator new call, which the compiler may not elide as it may a new-expression.)
    constexpr std::size_t kProbe = std::size_t{64} * 1024;
    const std::size_t before = mallinfo2().uordblks;
    void* probe = ::operator new(kProbe);
    const std::size_t with_probe = mallinfo2().uordblks;
    ::operator delete(probe);
    if (with_probe < before + kProbe) GTEST_SKIP() << "mallinfo2 does not track this allocator";
  }
  constexpr int kClients = 300;
  EndpointWorld world;
  Node& gw = world.add_node("gw", "192.0.2.2");
  world.ike->dpd_interval = 30s;
  world.accept_any(gw, "rw", "gw.lab");
  for (int i = 0; i < kClients; ++i) {
    Node& c = world.add_node("c" + std::to_string(i),
                             "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
    world.dial(c, gw, "rw", "client" + std::to_string(i) + ".lab", "gw.lab", ConnectionStart::Initiate);
  }
  world.start_all();
  ASSERT_EQ(gw.established().size(), static_cast<std::size_t>(kClients));
  ASSERT_EQ(gw.endpoint->table().child_count(), static_cast<std::size_t>(kClients));
  const std::size_t held = mallinfo2().uordblks;
  gw.endpoint.reset();
  const std::size_t after = mallinfo2().uordblks;
  ASSERT_GT(held, after);
  const std::size_t per_sa = (held - after) / kClients;
  RecordProperty("responder_heap_bytes_per_sa", static_cast<int>(per_sa));
  // 3,179 bytes here (release build, libstdc++ 12; 3,646 while the message protectors were 160
  // bytes each, the nonces, SK_pi/SK_pr and EAP's first request were kept for the SA's life and
  // the rekey maps were std::maps; 3,751 before the SAs shared one Environment). 3,260 fails if
  // any of those comes back (protectors +208, nonces +96, EAP request inline +88), and so do
  // the two AEAD contexts per direction (+4.5 KB), the two empty deques (+1.1 KB) or the
  // IKE_SA_INIT messages kept after IKE_AUTH (~0.5 KB).
  EXPECT_LE(per_sa, 3260u) << "heap per responder IKE SA (with its CHILD SA) on the Endpoint";
  // And not nothing: the measurement covers the SAs (an IkeSa alone is over 1 KiB).
  EXPECT_GE(per_sa, 1024u);
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
