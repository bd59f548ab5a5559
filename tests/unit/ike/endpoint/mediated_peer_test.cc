// natgated as a mediated peer (draft-brunner-ikev2-mediation-00; docs/mediation.md "natgated as
// mediated peer"): a mediation server "med" and two peers, each behind its own endpoint-independent
// NAT (the world's NAT keeps one public port per inside port), on the in-memory wire. The peers
// register with N(ME_MEDIATION), learn their server-reflexive endpoint from ME_ENDPOINT, exchange
// ME_CONNECT through the server, run signed connectivity checks at each other and set up the
// mediated IKE SA over the pair that worked, from the socket whose NAT mapping the checks opened.
#include <gtest/gtest.h>

#include "endpoint_world.h"
#include "ike/codec/mediation_payloads.h"
#include "ike/codec/message_codec.h"
#include "ike/mediation/check_message.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

struct MediatedPeer : ::testing::Test {
  EndpointWorld world;
  Node& med = world.add_node("med", "198.51.100.1");
  Node& alice = world.add_node("alice", "192.168.1.10");
  Node& bob = world.add_node("bob", "192.168.2.20");

  void SetUp() override {
    alice.nat_public = *IpAddress::parse("203.0.113.1");
    alice.nat_shift = 1000;
    bob.nat_public = *IpAddress::parse("203.0.113.2");
    bob.nat_shift = 2000;

    auto server = world.accept_any(med, "med", "med.lab");
    auto sp = std::const_pointer_cast<PeerConfig>(server->peer);
    sp->mediation_server = true;
    sp->children.clear();

    for (Node* n : {&alice, &bob}) {
      auto s = world.dial(*n, med, "med", n->name + ".lab", "med.lab", ConnectionStart::Initiate);
      auto p = std::const_pointer_cast<PeerConfig>(s->peer);
      p->mediation_client = true;  // `mediation: client`
      p->children.clear();
    }
    // alice initiates the mediated connection "ab"; bob's side listens. Neither knows an address.
    auto ab = world.connect(alice, bob, "ab", "alice.lab", "bob.lab", ConnectionStart::Initiate);
    ab->remote.reset();
    auto ap = std::const_pointer_cast<PeerConfig>(ab->peer);
    ap->mediated_by = "med";
    ap->mediation_peer = Identity::fqdn("bob.lab");
    auto ba = bob.connections.back();
    auto bp = std::const_pointer_cast<PeerConfig>(ba->peer);
    bp->mediated_by = "med";
    bp->mediation_peer = Identity::fqdn("alice.lab");
  }

  const IkeSaEntry* sa_of(const Node& n, const std::string& connection) const {
    for (const auto* e : n.established())
      if (e->connection() == connection) return e;
    return nullptr;
  }
  std::optional<mediation::MediatedPath> path_of(const Node& n, const std::string& connection) const {
    const ConnectionRuntime* rt = n.endpoint->runtime(connection);
    return rt ? rt->path : std::nullopt;
  }
  // Datagrams on the wire that are connectivity checks.
  std::vector<WirePacket> checks() const {
    std::vector<WirePacket> out;
    for (const auto& p : world.wire) {
      auto m = decode_message(p.datagram.bytes);
      if (m && mediation::looks_like_check(*m)) out.push_back(p);
    }
    return out;
  }
};

TEST_F(MediatedPeer, RegistersAndLearnsItsServerReflexiveEndpoint) {
  world.start_all();
  world.run();
  ASSERT_NE(sa_of(alice, "med"), nullptr);
  EXPECT_EQ(med.counter("mediation_registrations"), 2u);
  // N(ME_MEDIATION) went out in alice's IKE_SA_INIT: the first datagram on the wire.
  auto first = decode_message(world.wire.front().datagram.bytes);
  ASSERT_TRUE(first);
  EXPECT_NE(find_notify(first->payloads, me_notify::kMediation), nullptr);
  auto srflx = alice.endpoint->mediation().server_reflexive(sa_of(alice, "med")->id);
  ASSERT_TRUE(srflx);
  EXPECT_EQ(srflx->to_string(), "203.0.113.1:5500") << "alice's mediation SA floated to 4500, NAT +1000";
}

TEST_F(MediatedPeer, GetsADirectIkeSaThroughTheNatsWithoutTheServer) {
  world.start_all();
  world.run();
  for (int i = 0; i < 200 && !(sa_of(alice, "ab") && sa_of(bob, "ab")); ++i) world.advance(25ms);
  const IkeSaEntry* a = sa_of(alice, "ab");
  const IkeSaEntry* b = sa_of(bob, "ab");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // Direct: from alice's NAT mapping of port 4500 to bob's, never through 198.51.100.1.
  EXPECT_EQ(a->sa->local().to_string(), "192.168.1.10:4500");
  EXPECT_EQ(a->sa->remote().to_string(), "203.0.113.2:6500");
  EXPECT_EQ(b->sa->remote().to_string(), "203.0.113.1:5500");
  EXPECT_EQ(med.counter("mediation_forwarded"), 2u);  // request and response, nothing else
  EXPECT_EQ(alice.counter("mediation_checks_succeeded"), 1u);
  EXPECT_GE(bob.counter("mediation_checks_received"), 1u);
  // Both checked: requests went both ways between the two public endpoints.
  bool a_to_b = false, b_to_a = false;
  for (const auto& p : checks()) {
    if (p.from == world.index_of(alice) && p.datagram.remote.to_string() == "203.0.113.2:6500") a_to_b = true;
    if (p.from == world.index_of(bob) && p.datagram.remote.to_string() == "203.0.113.1:5500") b_to_a = true;
    EXPECT_TRUE(p.datagram.natt) << "checks leave from the NAT-T socket";
  }
  EXPECT_TRUE(a_to_b);
  EXPECT_TRUE(b_to_a);
  // The CHILD SA came up on both sides, between the NATs.
  EXPECT_FALSE(alice.children.empty());
  EXPECT_FALSE(bob.children.empty());
  // The mediated IKE_SA_INIT carried the connect ID; bob's check list ended with it.
  EXPECT_TRUE(bob.logged("the mediated IKE_SA_INIT arrived, checks end"));
  // The path, for `natgate status`: direct, with the pair alice nominated; bob names his own.
  auto a_path = path_of(alice, "ab");
  ASSERT_TRUE(a_path);
  EXPECT_EQ(a_path->kind, mediation::PathKind::Direct);
  EXPECT_TRUE(a_path->reason.starts_with("candidate pair ")) << a_path->reason;
  EXPECT_TRUE(a_path->reason.ends_with(" 192.168.1.10:4500 - 203.0.113.2:6500 succeeded")) << a_path->reason;
  auto b_path = path_of(bob, "ab");
  ASSERT_TRUE(b_path);
  EXPECT_EQ(b_path->kind, mediation::PathKind::Direct);
  EXPECT_TRUE(b_path->reason.ends_with("the peer's mediated IKE_SA_INIT arrived")) << b_path->reason;
  EXPECT_EQ(alice.counter("mediation_relay_fallbacks"), 0u);
  EXPECT_TRUE(alice.endpoint->mediation().attempts().empty());
  // The check timers are bounded: nothing about them stays armed once the SA is up.
  world.advance(100s);
  EXPECT_FALSE(alice.timer(EndpointTimer::MediationChecks, 1));
}

// A peer without a NAT: its mediation SA still moves to port 4500 (strongSwan 5.9.8 does too),
// so the host candidate it announces is its NAT-T socket. On port 500 the other peer's checks,
// which leave its NAT-T socket with the non-ESP marker, were no IKE there and every pair failed
// (tools/mediation-matrix, the "no NAT" rows).
TEST_F(MediatedPeer, APeerWithoutNatFloatsTo4500AndGetsADirectIkeSa) {
  bob.nat_public.reset();
  bob.nat_shift = 0;
  world.start_all();
  world.run();
  const IkeSaEntry* bm = sa_of(bob, "med");
  ASSERT_NE(bm, nullptr);
  EXPECT_EQ(bm->sa->local().to_string(), "192.168.2.20:4500");
  EXPECT_EQ(bm->sa->remote().to_string(), "198.51.100.1:4500");
  for (int i = 0; i < 200 && !(sa_of(alice, "ab") && sa_of(bob, "ab")); ++i) world.advance(25ms);
  const IkeSaEntry* a = sa_of(alice, "ab");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->sa->remote().to_string(), "192.168.2.20:4500");
  EXPECT_EQ(alice.counter("mediation_checks_succeeded"), 1u);
  auto a_path = path_of(alice, "ab");
  ASSERT_TRUE(a_path);
  EXPECT_EQ(a_path->kind, mediation::PathKind::Direct) << a_path->reason;
}

TEST_F(MediatedPeer, AnOfflinePeerGivesMeConnectFailedThenACallback) {
  auto bobs_med = bob.connections.front();
  bob.connections.erase(bob.connections.begin());  // bob's mediation connection: not yet
  world.start_all();
  world.run();
  EXPECT_EQ(alice.counter("mediation_connect_failed"), 1u);
  EXPECT_TRUE(alice.logged("ME_CONNECT_FAILED, fqdn:bob.lab is not online"));
  EXPECT_EQ(sa_of(alice, "ab"), nullptr);
  auto failed = path_of(alice, "ab");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->kind, mediation::PathKind::None);
  EXPECT_EQ(failed->reason,
            "ME_CONNECT_FAILED (fqdn:bob.lab is not online); no relay configured (mediation.relay)");
  EXPECT_EQ(alice.counter("mediation_no_path"), 1u);

  // bob registers: the server calls alice back (IDp(bob) N(ME_CALLBACK)) and she asks again.
  bob.connections.insert(bob.connections.begin(), bobs_med);
  world.restart(bob);
  world.run();
  EXPECT_EQ(med.counter("mediation_callbacks_sent"), 1u);
  for (int i = 0; i < 200 && !(sa_of(alice, "ab") && sa_of(bob, "ab")); ++i) world.advance(25ms);
  ASSERT_NE(sa_of(alice, "ab"), nullptr);
  EXPECT_EQ(sa_of(alice, "ab")->sa->remote().to_string(), "203.0.113.2:6500");
  EXPECT_EQ(alice.counter("mediation_connects_sent"), 2u);
  ASSERT_TRUE(path_of(alice, "ab"));
  EXPECT_EQ(path_of(alice, "ab")->kind, mediation::PathKind::Direct) << "asked again, found direct";
}

// mediation.relay: with no direct path (here ME_CONNECT_FAILED) alice brings up the relay
// connection, an ordinary one to a hub, by itself, and says so (docs/design.md).
TEST_F(MediatedPeer, NoDirectPathBringsUpTheRelayConnection) {
  Node& hub = world.add_node("hub", "198.51.100.2");
  world.connect(alice, hub, "relay", "alice.lab", "hub.lab", ConnectionStart::Listen);
  for (auto& c : alice.connections)
    if (c->name == "ab") std::const_pointer_cast<ConnectionSettings>(c)->mediation_relay = "relay";
  bob.connections.erase(bob.connections.begin());  // bob never registers
  world.start_all();
  world.run();
  EXPECT_EQ(alice.counter("mediation_connect_failed"), 1u);
  auto path = path_of(alice, "ab");
  ASSERT_TRUE(path);
  EXPECT_EQ(path->kind, mediation::PathKind::Relayed);
  EXPECT_EQ(path->reason, "ME_CONNECT_FAILED (fqdn:bob.lab is not online); relayed through connection relay");
  EXPECT_EQ(alice.counter("mediation_relay_fallbacks"), 1u);
  EXPECT_TRUE(alice.logged("ab: path relayed: ME_CONNECT_FAILED"));
  const IkeSaEntry* relay = sa_of(alice, "relay");
  ASSERT_NE(relay, nullptr) << "start: listen, brought up by the fallback alone";
  EXPECT_EQ(relay->sa->remote().address.to_string(), "198.51.100.2");
  EXPECT_FALSE(hub.children.empty()) << "the relay connection carries a CHILD SA";
  EXPECT_EQ(sa_of(alice, "ab"), nullptr);
}

TEST_F(MediatedPeer, ARequestFromAPeerWeHaveNoConnectionForIsCountedAndIgnored) {
  // bob's mediated connection names carol, not alice: alice's request finds nothing at bob.
  auto bp = std::const_pointer_cast<PeerConfig>(bob.connections.back()->peer);
  bp->mediation_peer = Identity::fqdn("carol.lab");
  world.start_all();
  world.run();
  for (int i = 0; i < 40; ++i) world.advance(25ms);
  EXPECT_EQ(med.counter("mediation_forwarded"), 1u);  // alice's request, no answer from bob
  EXPECT_EQ(bob.counter("mediation_unknown_peer"), 1u);
  EXPECT_EQ(sa_of(alice, "ab"), nullptr);
  EXPECT_TRUE(checks().empty()) << "nobody checks without both sides' endpoints";
  EXPECT_NE(sa_of(bob, "med"), nullptr) << "the mediation SA stays";
}

TEST_F(MediatedPeer, HostileChecksAreCountedAndDropped) {
  world.start_all();
  world.run();
  // A zero-SPI INFORMATIONAL that is no check, and a check for a connect ID nobody has.
  auto bogus = mediation::build_check(true, 1, Bytes{1, 2, 3, 4},
                                      MeEndpoint{1, MeEndpointType::PeerReflexive, std::nullopt},
                                      secret("not the key"));
  Bytes bytes = encode_message(bogus);
  ReceivedDatagram in{bytes, natgate::Endpoint{alice.address, 4500},
                      natgate::Endpoint{*IpAddress::parse("198.18.0.9"), 4500}, true};
  world.apply(alice, alice.endpoint->handle_datagram(in, world.now));
  Bytes junk(28, 0);
  junk[17] = 0x20;  // version 2.0
  junk[18] = 37;    // INFORMATIONAL
  junk[27] = 28;    // length
  ReceivedDatagram in2{junk, in.local, in.remote, true};
  world.apply(alice, alice.endpoint->handle_datagram(in2, world.now));
  EXPECT_EQ(alice.counter("mediation_check_dropped"), 2u);
  EXPECT_NE(sa_of(alice, "med"), nullptr) << "nothing ended";
}

}  // namespace
}  // namespace natgate::ike::testing
