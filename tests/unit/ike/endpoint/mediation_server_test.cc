// natgated as a mediation server (draft-brunner-ikev2-mediation-00; docs/mediation.md "natgated as
// mediation server"): ike::Endpoints on the in-memory wire, a server "med" whose connection sets
// PeerConfig::mediation_server and two or three peers with childless mediation connections to it.
// The peers' ME_CONNECTs go through Endpoint::send_me_connect; what the server forwards arrives in
// the receiving peer's EndpointMediation::received(). Hostile input (unknown targets, floods,
// oversized candidate lists, ME_CONNECT outside a mediation connection) is counted, answered and
// never ends an SA.
#include <gtest/gtest.h>

#include "endpoint_world.h"
#include "ike/codec/mediation_payloads.h"
#include "ike/mediation/candidates.h"
#include "ike/mediation/me_connect.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;
using mediation::MeConnect;

IdPeer id_peer(const std::string& name) {
  return IdPeer{iana::IdType::Fqdn, Bytes(name.begin(), name.end())};
}

MeEndpoint host(const char* address, std::uint32_t priority = (255u << 16) + 65535u) {
  return MeEndpoint{priority, MeEndpointType::Host, natgate::Endpoint{*IpAddress::parse(address), 4500}};
}

struct MediationServer : ::testing::Test {
  EndpointWorld world;
  Node& med = world.add_node("med", "198.51.100.1");
  crypto::DeterministicRandom random{7};

  void SetUp() override {
    auto settings = world.accept_any(med, "med", "med.lab");
    auto peer = std::const_pointer_cast<PeerConfig>(settings->peer);
    peer->mediation_server = true;
    peer->children.clear();  // a mediation connection carries no CHILD SA (draft §3)
  }

  // A peer with a childless mediation connection to med (as charon's `mediation = yes` peer).
  Node& peer(const std::string& name, const std::string& ip) {
    Node& n = world.add_node(name, ip);
    auto s = world.dial(n, med, "med", name + ".lab", "med.lab", ConnectionStart::Initiate);
    std::const_pointer_cast<PeerConfig>(s->peer)->children.clear();
    return n;
  }
  SaId sa_of(const Node& n) const {
    auto up = n.established();
    return up.empty() ? 0 : up.front()->id;
  }
  void send(Node& from, std::vector<Payload> payloads) {
    world.apply(from, from.endpoint->send_me_connect(sa_of(from), std::move(payloads), world.now));
    world.run();
  }
  MeConnect ask(const std::string& target, std::vector<MeEndpoint> endpoints) {
    return mediation::make_connect_request(random, id_peer(target), std::move(endpoints));
  }
  const std::deque<EndpointMediation::Received>& inbox(const Node& n) const {
    return n.endpoint->mediation().received();
  }
};

TEST_F(MediationServer, RegistersPeersWithoutChildSas) {
  Node& alice = peer("alice", "192.0.2.10");
  Node& bob = peer("bob", "192.0.2.20");
  world.start_all();
  world.run();
  ASSERT_EQ(med.established().size(), 2u);
  EXPECT_EQ(med.counter("mediation_registrations"), 2u);
  EXPECT_EQ(med.endpoint->mediation().registry().online_count(), 2u);
  EXPECT_TRUE(med.children.empty());
  EXPECT_TRUE(med.logged("alice.lab registered, seen at 192.0.2.10"));
  EXPECT_EQ(alice.established().size(), 1u);
  EXPECT_EQ(bob.established().size(), 1u);
}

TEST_F(MediationServer, ForwardsARequestAndTheResponseBack) {
  Node& alice = peer("alice", "192.0.2.10");
  Node& bob = peer("bob", "192.0.2.20");
  world.start_all();
  world.run();

  // alice -> med: IDp(bob) CONNECTID CONNECTKEY CALLBACK ENDPOINT; med -> bob with IDp(alice).
  MeConnect request = ask("bob.lab", {host("192.168.1.10"), host("10.9.0.1", 1000)});
  send(alice, mediation::payloads_from_peer(request));
  EXPECT_EQ(med.counter("mediation_forwarded"), 1u);
  ASSERT_EQ(inbox(bob).size(), 1u);
  const MeConnect& at_bob = inbox(bob).front().message;
  EXPECT_EQ(at_bob.peer, id_peer("alice.lab"));
  EXPECT_EQ(at_bob.connect_id, request.connect_id);
  EXPECT_EQ(at_bob.connect_key, request.connect_key);
  EXPECT_EQ(at_bob.endpoints, request.endpoints);
  EXPECT_FALSE(at_bob.callback);  // ME_CALLBACK is not forwarded
  EXPECT_FALSE(at_bob.response);
  EXPECT_TRUE(inbox(alice).empty());

  // bob -> med: IDp(alice) with ME_RESPONSE, its own key and endpoints; med -> alice with IDp(bob).
  MeConnect response = mediation::make_connect_response(random, at_bob, {host("192.168.1.20")});
  send(bob, mediation::payloads_from_peer(response));
  EXPECT_EQ(med.counter("mediation_forwarded"), 2u);
  ASSERT_EQ(inbox(alice).size(), 1u);
  const MeConnect& at_alice = inbox(alice).front().message;
  EXPECT_EQ(at_alice.peer, id_peer("bob.lab"));
  EXPECT_TRUE(at_alice.response);
  EXPECT_EQ(at_alice.connect_id, request.connect_id);
  EXPECT_EQ(at_alice.connect_key, response.connect_key);
  EXPECT_EQ(at_alice.endpoints, response.endpoints);
  EXPECT_EQ(med.counter("mediation_refused"), 0u);
  EXPECT_EQ(med.established().size(), 2u);
}

TEST_F(MediationServer, AnUnknownPeerIsRefusedAndTheRequesterCalledBackLater) {
  Node& alice = peer("alice", "192.0.2.10");
  world.start_all();
  world.run();
  send(alice, mediation::payloads_from_peer(ask("carol.lab", {host("192.168.1.10")})));
  EXPECT_EQ(med.counter("mediation_target_offline"), 1u);
  EXPECT_EQ(med.counter("mediation_refused"), 1u);
  EXPECT_EQ(med.counter("mediation_forwarded"), 0u);
  EXPECT_TRUE(inbox(alice).empty());
  EXPECT_EQ(alice.established().size(), 1u);  // refused, not ended

  // carol registers: alice, who asked with ME_CALLBACK, hears IDp(carol) N(ME_CALLBACK).
  Node& carol = peer("carol", "192.0.2.30");
  world.start(carol);
  world.run();
  EXPECT_EQ(med.counter("mediation_callbacks_sent"), 1u);
  ASSERT_EQ(inbox(alice).size(), 1u);
  EXPECT_TRUE(inbox(alice).front().message.callback);
  EXPECT_EQ(inbox(alice).front().message.peer, id_peer("carol.lab"));
}

TEST_F(MediationServer, AFloodIsLimitedPerSenderAndPair) {
  Node& alice = peer("alice", "192.0.2.10");
  Node& bob = peer("bob", "192.0.2.20");
  world.start_all();
  world.run();
  // Twenty at once (the IKE window sends them one after another): per (sender, target) 3 pass,
  // per sender 10 tokens (RegistryLimits' defaults).
  for (int i = 0; i < 20; ++i)
    world.apply(alice, alice.endpoint->send_me_connect(
                           sa_of(alice),
                           mediation::payloads_from_peer(ask("bob.lab", {host("192.168.1.10")})), world.now));
  world.run();
  EXPECT_EQ(med.counter("mediation_forwarded"), 3u);
  EXPECT_EQ(med.counter("mediation_pair_limited"), 7u);
  EXPECT_EQ(med.counter("mediation_sender_limited"), 10u);
  EXPECT_EQ(inbox(bob).size(), 3u);
  EXPECT_EQ(alice.established().size(), 1u);
  EXPECT_EQ(bob.established().size(), 1u);
  // The buckets refill: a while later alice may ask again.
  world.advance(10s);
  send(alice, mediation::payloads_from_peer(ask("bob.lab", {host("192.168.1.10")})));
  EXPECT_EQ(med.counter("mediation_forwarded"), 4u);
}

TEST_F(MediationServer, AnOversizedCandidateListIsCutAndCounted) {
  Node& alice = peer("alice", "192.0.2.10");
  Node& bob = peer("bob", "192.0.2.20");
  world.start_all();
  world.run();
  std::vector<MeEndpoint> many;
  for (int i = 1; i <= 40; ++i) many.push_back(host(("10.0.0." + std::to_string(i)).c_str()));
  send(alice, mediation::payloads_from_peer(ask("bob.lab", many)));
  ASSERT_EQ(inbox(bob).size(), 1u);
  EXPECT_EQ(inbox(bob).front().message.endpoints.size(), mediation::kMaxCandidates);
  EXPECT_EQ(med.counter("mediation_extra_endpoints"), 40u - mediation::kMaxCandidates);
}

TEST_F(MediationServer, AMalformedRequestIsAnsweredAndCounted) {
  Node& alice = peer("alice", "192.0.2.10");
  Node& bob = peer("bob", "192.0.2.20");
  world.start_all();
  world.run();
  // No CONNECTID, no endpoints: INVALID_SYNTAX, nothing forwarded.
  send(alice, {id_peer("bob.lab"), Notify::make(me_notify::kCallback)});
  // An ME notify of a length strongSwan rejects.
  send(alice, {id_peer("bob.lab"), Notify::make(me_notify::kConnectId, Bytes(2, 0x01)),
               Notify::make(me_notify::kConnectKey, Bytes(16, 0x02)),
               Notify::make(me_notify::kEndpoint, encode_me_endpoint(host("10.0.0.1")))});
  EXPECT_EQ(med.counter("mediation_invalid"), 2u);
  EXPECT_EQ(med.counter("mediation_forwarded"), 0u);
  EXPECT_TRUE(inbox(bob).empty());
  EXPECT_EQ(alice.established().size(), 1u);
}

TEST_F(MediationServer, AMediationPeerThatLeavesIsNoLongerReachable) {
  Node& alice = peer("alice", "192.0.2.10");
  Node& bob = peer("bob", "192.0.2.20");
  world.start_all();
  world.run();
  world.apply(bob, bob.endpoint->shutdown(world.now));
  world.run();
  EXPECT_EQ(med.endpoint->mediation().registry().online_count(), 1u);
  send(alice, mediation::payloads_from_peer(ask("bob.lab", {host("192.168.1.10")})));
  EXPECT_EQ(med.counter("mediation_target_offline"), 1u);
  EXPECT_EQ(med.counter("mediation_forwarded"), 0u);
}

TEST(MediationServerOff, MeConnectOutsideAMediationConnectionIsRefused) {
  EndpointWorld world;
  Node& moon = world.add_node("moon", "192.0.2.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
  world.start_all();
  world.run();
  ASSERT_EQ(sun.established().size(), 1u);
  crypto::DeterministicRandom random{3};
  auto request = mediation::make_connect_request(random, id_peer("other.lab"), {host("10.0.0.1")});
  world.apply(moon, moon.endpoint->send_me_connect(moon.established().front()->id,
                                                   mediation::payloads_from_peer(request), world.now));
  world.run();
  EXPECT_EQ(sun.counter("mediation_unknown_sender"), 1u);
  EXPECT_EQ(sun.counter("mediation_forwarded"), 0u);
  EXPECT_EQ(sun.established().size(), 1u);
  EXPECT_EQ(moon.established().size(), 1u);
  EXPECT_EQ(sun.children.size(), 1u);
}

}  // namespace
}  // namespace natgate::ike::testing
