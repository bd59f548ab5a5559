// MOBIKE (RFC 4555) through ike::Endpoint: a road warrior behind one NAT moves behind another
// (or out of any NAT) and moves its IKE SA and CHILD SAs with UPDATE_SA_ADDRESSES; the gateway
// follows only an authenticated, new, negotiated update. The messages are opened with the SA's
// keys and their notifies checked byte for byte.
#include <gtest/gtest.h>

#include <algorithm>

#include "endpoint_world.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/message_protection.h"
#include "natt/nat_detection.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;
using iana::ExchangeType;
using iana::NotifyType;

struct EndpointMobike : ::testing::Test {
  EndpointWorld world;
  Node& carol = world.add_node("carol", "192.168.1.10");  // the road warrior
  Node& moon = world.add_node("moon", "192.0.2.1");       // the gateway
  std::shared_ptr<ConnectionSettings> conn;

  void behind_nat_a() {
    carol.nat_public = endpoint("198.51.100.1", 0).address;
    carol.nat_shift = 1000;
  }
  // Carol's uplink changes: a new private address behind another NAT with another mapping.
  void move_behind_nat_b() {
    carol.address = endpoint("10.77.0.20", 0).address;
    carol.nat_public = endpoint("203.0.113.5", 0).address;
    carol.nat_shift = 2000;
  }
  void establish(bool carol_mobike = true, bool moon_mobike = true) {
    conn = world.connect(carol, moon, "rw", "carol.lab", "moon.lab", ConnectionStart::Initiate);
    auto carol_peer = std::make_shared<PeerConfig>(*conn->peer);
    carol_peer->mobike = carol_mobike;
    conn->peer = carol_peer;
    moon.configs.peers.back()->mobike = moon_mobike;
    world.start_all();
    ASSERT_EQ(carol.established().size(), 1u);
    ASSERT_EQ(moon.established().size(), 1u);
  }
  const IkeSa& carol_sa() { return *carol.established()[0]->sa; }
  const IkeSa& moon_sa() { return *moon.established()[0]->sa; }

  // A datagram on the wire in clear, opened with the IKE SA's keys (carol's view of them).
  Message open(const Datagram& d) {
    auto message = decode_message(d.bytes);
    EXPECT_TRUE(message);
    if (!message || !find<Encrypted>(*message)) return message ? *message : Message{};
    const IkeSaKeys* keys = carol_sa().key_material_for_testing();
    const bool by_initiator = message->header.initiator();
    auto protector = MessageProtector::create(*carol_sa().suite(), by_initiator ? keys->sk_ei : keys->sk_er,
                                              by_initiator ? keys->sk_ai : keys->sk_ar);
    EXPECT_TRUE(protector);
    auto opened = open_message(d.bytes, *protector);
    EXPECT_TRUE(opened);
    return opened ? Message{opened->header, opened->payloads} : Message{};
  }
  // The wire's packets from `from` of this exchange, in order.
  std::vector<const WirePacket*> sent(const Node& from, ExchangeType exchange, std::size_t since = 0) {
    std::vector<const WirePacket*> out;
    for (std::size_t i = since; i < world.wire.size(); ++i) {
      const auto& p = world.wire[i];
      auto h = decode_header(p.datagram.bytes);
      if (h && p.from == world.index_of(from) && h->exchange == exchange) out.push_back(&p);
    }
    return out;
  }
  // An INFORMATIONAL request as carol's SA would seal it (for hostile cases carol never sends).
  Bytes seal_from_carol(std::uint32_t message_id, const std::vector<Payload>& payloads) {
    const IkeSaKeys* keys = carol_sa().key_material_for_testing();
    auto protector = MessageProtector::create(*carol_sa().suite(), keys->sk_ei, keys->sk_ai);
    EXPECT_TRUE(protector);
    IkeHeader h;
    h.spi_i = carol_sa().spi_i();
    h.spi_r = carol_sa().spi_r();
    h.exchange = ExchangeType::Informational;
    h.set_initiator(true);
    h.message_id = MessageId{message_id};
    auto sealed = seal_message(h, payloads, *protector, carol.random);
    EXPECT_TRUE(sealed);
    return sealed ? *sealed : Bytes{};
  }
  EndpointOutput to_moon(ByteView bytes, const natgate::Endpoint& from) {
    const bool natt = from.port != 500;
    return moon.endpoint->handle_datagram(
        ReceivedDatagram{bytes,
                         natgate::Endpoint{moon.address, natt ? std::uint16_t{4500} : std::uint16_t{500}},
                         from, natt},
        world.now);
  }
};

bool has(const Message& m, NotifyType t) { return find_notify(m.payloads, t) != nullptr; }

TEST_F(EndpointMobike, BothSidesOfferMobikeSupportedInIkeAuth) {
  behind_nat_a();
  establish();
  auto requests = sent(carol, ExchangeType::IkeAuth);
  auto responses = sent(moon, ExchangeType::IkeAuth);
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(responses.size(), 1u);
  const Message req = open(requests[0]->datagram);
  const Message resp = open(responses[0]->datagram);
  for (const Message* m : {&req, &resp}) {
    const Notify* sup = find_notify(m->payloads, NotifyType::MobikeSupported);
    ASSERT_TRUE(sup);
    EXPECT_TRUE(sup->data.empty());
    EXPECT_TRUE(sup->spi.empty());
    ASSERT_TRUE(has(*m, NotifyType::NoAdditionalAddresses));
    EXPECT_TRUE(find_notify(m->payloads, NotifyType::NoAdditionalAddresses)->data.empty());
  }
  // The notify's type on the wire (RFC 4555 §4.2.1: 16396), as the encoder wrote it.
  const Bytes again = encode_payload_chain({Notify::make(NotifyType::MobikeSupported)}).bytes;
  ASSERT_EQ(again.size(), 8u);
  EXPECT_EQ(again[6], 0x40);
  EXPECT_EQ(again[7], 0x0c);
  EXPECT_TRUE(carol_sa().mobike());
  EXPECT_TRUE(moon_sa().mobike());
}

TEST_F(EndpointMobike, ARoadWarriorMovesBehindAnotherNatWithUpdateSaAddresses) {
  behind_nat_a();
  establish();
  const IkeSpi spi_i = moon_sa().spi_i();
  const IkeSpi spi_r = moon_sa().spi_r();
  const auto moon_children_before = moon.children;
  ASSERT_EQ(moon_children_before.size(), 1u);
  EXPECT_EQ(moon_sa().remote(), (natgate::Endpoint{*carol.nat_public, 5500}));

  move_behind_nat_b();
  const std::size_t mark = world.wire.size();
  world.apply(carol, carol.endpoint->local_addresses_changed(world.now));
  // Carol moved her own side at once (the old address may be gone).
  EXPECT_EQ(carol_sa().local(), (natgate::Endpoint{carol.address, 4500}));
  ASSERT_EQ(carol.moves.size(), 1u);
  EXPECT_EQ(carol.moves[0].local, (natgate::Endpoint{carol.address, 4500}));
  world.run();

  auto updates = sent(carol, ExchangeType::Informational, mark);
  ASSERT_EQ(updates.size(), 1u);
  const Datagram& u = updates[0]->datagram;
  EXPECT_EQ(u.local, (natgate::Endpoint{carol.address, 4500}));
  EXPECT_EQ(u.remote, (natgate::Endpoint{moon.address, 4500}));
  EXPECT_TRUE(u.natt);
  const Message req = open(u);
  EXPECT_FALSE(req.header.response());
  ASSERT_TRUE(has(req, NotifyType::UpdateSaAddresses));
  // §3.5: NAT-D over this message's own addresses and SPIs.
  const Notify* src = find_notify(req.payloads, NotifyType::NatDetectionSourceIp);
  const Notify* dst = find_notify(req.payloads, NotifyType::NatDetectionDestinationIp);
  ASSERT_TRUE(src && dst);
  EXPECT_EQ(src->data, natt::natd_hash(spi_i.bytes, spi_r.bytes, natgate::Endpoint{carol.address, 4500}));
  EXPECT_EQ(dst->data, natt::natd_hash(spi_i.bytes, spi_r.bytes, natgate::Endpoint{moon.address, 4500}));
  const Notify* cookie = find_notify(req.payloads, NotifyType::Cookie2);
  ASSERT_TRUE(cookie);
  EXPECT_EQ(cookie->data.size(), 16u);
  EXPECT_TRUE(has(req, NotifyType::NoAdditionalAddresses));

  auto answers = sent(moon, ExchangeType::Informational, mark);
  ASSERT_EQ(answers.size(), 1u);
  const natgate::Endpoint carol_b{*carol.nat_public, 6500};
  EXPECT_EQ(answers[0]->datagram.remote, carol_b);  // through NAT B's new mapping
  const Message resp = open(answers[0]->datagram);
  EXPECT_TRUE(resp.header.response());
  const Notify* echo = find_notify(resp.payloads, NotifyType::Cookie2);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->data, cookie->data);
  const Notify* rsrc = find_notify(resp.payloads, NotifyType::NatDetectionSourceIp);
  const Notify* rdst = find_notify(resp.payloads, NotifyType::NatDetectionDestinationIp);
  ASSERT_TRUE(rsrc && rdst);
  EXPECT_EQ(rsrc->data, natt::natd_hash(spi_i.bytes, spi_r.bytes, natgate::Endpoint{moon.address, 4500}));
  EXPECT_EQ(rdst->data, natt::natd_hash(spi_i.bytes, spi_r.bytes, carol_b));

  // The gateway followed: same IKE SA (same SPIs), same CHILD SA, new outer endpoints.
  ASSERT_EQ(moon.established().size(), 1u);
  EXPECT_EQ(moon_sa().spi_i(), spi_i);
  EXPECT_EQ(moon_sa().spi_r(), spi_r);
  EXPECT_EQ(moon_sa().remote(), carol_b);
  EXPECT_EQ(moon.established()[0]->peer, carol_b);
  ASSERT_EQ(moon.children.size(), 1u);
  EXPECT_EQ(moon.children.begin()->first, moon_children_before.begin()->first);
  EXPECT_EQ(moon.children.begin()->second.remote, carol_b);
  ASSERT_EQ(moon.moves.size(), 1u);
  EXPECT_EQ(moon.moves[0].udp_encapsulation, std::optional<bool>(true));
  EXPECT_EQ(moon.counter("mobike_address_updates"), 1u);
  EXPECT_EQ(carol.counter("mobike_local_moves"), 1u);
  EXPECT_EQ(moon.counter("ike_sas_established"), 1u);

  // And the moved SA works: the gateway's liveness check reaches carol at NAT B and is answered.
  const std::size_t before_dpd = world.wire.size();
  world.apply(moon, moon.endpoint->rekey_child_sa(moon.established()[0]->id, moon.children.begin()->first,
                                                  world.now));
  world.run();
  auto rekey = sent(moon, ExchangeType::CreateChildSa, before_dpd);
  ASSERT_FALSE(rekey.empty());
  EXPECT_EQ(rekey[0]->datagram.remote, carol_b);
  EXPECT_EQ(sent(carol, ExchangeType::CreateChildSa, before_dpd).size(), 1u);
}

TEST_F(EndpointMobike, MovingOutOfTheNatTurnsUdpEncapsulationOff) {
  behind_nat_a();
  establish();
  carol.address = endpoint("192.0.2.77", 0).address;  // a public address, no NAT
  carol.nat_public.reset();
  carol.nat_shift = 0;
  world.apply(carol, carol.endpoint->local_addresses_changed(world.now));
  world.run();
  ASSERT_EQ(moon.moves.size(), 1u);
  EXPECT_EQ(moon.moves[0].remote, (natgate::Endpoint{carol.address, 4500}));
  EXPECT_EQ(moon.moves[0].udp_encapsulation, std::optional<bool>(false));
  EXPECT_FALSE(moon_sa().nat().udp_encapsulation());
  // Carol learnt it from the response's NAT-D: her CHILD SAs move to plain ESP too.
  ASSERT_EQ(carol.moves.size(), 2u);
  EXPECT_EQ(carol.moves[1].udp_encapsulation, std::optional<bool>(false));
  EXPECT_FALSE(carol_sa().nat().udp_encapsulation());
}

TEST_F(EndpointMobike, NothingMovesWhenNothingChanged) {
  behind_nat_a();
  establish();
  const std::size_t mark = world.wire.size();
  world.apply(carol, carol.endpoint->local_addresses_changed(world.now));
  world.run();
  EXPECT_EQ(world.wire.size(), mark);
  EXPECT_TRUE(carol.moves.empty());
}

TEST_F(EndpointMobike, WithoutMobikeTheRoadWarriorSendsNoUpdate) {
  behind_nat_a();
  establish(/*carol_mobike=*/false);
  EXPECT_FALSE(carol_sa().mobike());
  EXPECT_FALSE(moon_sa().mobike());
  EXPECT_FALSE(has(open(sent(carol, ExchangeType::IkeAuth)[0]->datagram), NotifyType::MobikeSupported));
  EXPECT_FALSE(has(open(sent(moon, ExchangeType::IkeAuth)[0]->datagram), NotifyType::MobikeSupported));
  move_behind_nat_b();
  const std::size_t mark = world.wire.size();
  world.apply(carol, carol.endpoint->local_addresses_changed(world.now));
  world.run();
  EXPECT_EQ(world.wire.size(), mark);
}

TEST_F(EndpointMobike, AGatewayWithMobikeOffDoesNotAnswerTheOffer) {
  behind_nat_a();
  establish(true, /*moon_mobike=*/false);
  EXPECT_TRUE(has(open(sent(carol, ExchangeType::IkeAuth)[0]->datagram), NotifyType::MobikeSupported));
  EXPECT_FALSE(has(open(sent(moon, ExchangeType::IkeAuth)[0]->datagram), NotifyType::MobikeSupported));
  EXPECT_FALSE(carol_sa().mobike());
  EXPECT_FALSE(moon_sa().mobike());
}

// Hostile and doubtful updates: counted, answered at most, and nothing moves.

TEST_F(EndpointMobike, AnUpdateWithoutNegotiatedMobikeMovesNothing) {
  // A peer with a public address (no NAT: RFC 7296 §2.23 would not move it either).
  establish(/*carol_mobike=*/false);
  const natgate::Endpoint before = moon_sa().remote();
  const Bytes update = seal_from_carol(
      2, {Notify::make(NotifyType::UpdateSaAddresses), Notify::make(NotifyType::Cookie2, Bytes(16, 0x42))});
  ASSERT_EQ(before.port, 500u);  // no NAT: IKE stayed on port 500
  world.apply(moon, to_moon(update, endpoint("192.168.1.99", 500)));
  EXPECT_EQ(moon_sa().mobike_updates_refused(), 1u);
  EXPECT_EQ(moon_sa().remote(), before);
  EXPECT_TRUE(moon.moves.empty());
  EXPECT_EQ(moon.counter("mobike_address_updates"), 0u);
}

TEST_F(EndpointMobike, AnUnauthenticatedUpdateIsDroppedAndCounted) {
  behind_nat_a();
  establish();
  const natgate::Endpoint before = moon_sa().remote();
  Bytes update = seal_from_carol(2, {Notify::make(NotifyType::UpdateSaAddresses)});
  update.back() ^= 0x01;  // the ICV no longer verifies
  const std::size_t mark = world.wire.size();
  world.apply(moon, to_moon(update, endpoint("198.18.0.9", 4500)));
  EXPECT_EQ(moon.counter("ike_integrity_failures"), 1u);
  EXPECT_EQ(moon_sa().counters().integrity_failures, 1u);
  EXPECT_EQ(moon_sa().remote(), before);
  EXPECT_TRUE(moon.moves.empty());
  EXPECT_EQ(world.wire.size(), mark);  // not answered
}

TEST_F(EndpointMobike, AReplayedUpdateFromElsewhereMovesNothing) {
  behind_nat_a();
  establish();
  move_behind_nat_b();
  const std::size_t mark = world.wire.size();
  world.apply(carol, carol.endpoint->local_addresses_changed(world.now));
  world.run();
  auto updates = sent(carol, ExchangeType::Informational, mark);
  ASSERT_EQ(updates.size(), 1u);
  const Bytes captured = updates[0]->datagram.bytes;
  const natgate::Endpoint carol_b{*carol.nat_public, 6500};
  ASSERT_EQ(moon_sa().remote(), carol_b);
  const std::size_t resent_before = moon_sa().exchange_counters().cached_responses_resent;

  // An attacker replays the captured update (same Message ID) from its own address.
  const std::size_t mark2 = world.wire.size();
  world.apply(moon, to_moon(captured, endpoint("198.18.0.9", 4500)));
  EXPECT_EQ(moon_sa().remote(), carol_b);
  EXPECT_EQ(moon.moves.size(), 1u);
  EXPECT_EQ(moon.counter("mobike_address_updates"), 1u);
  EXPECT_EQ(moon_sa().exchange_counters().cached_responses_resent, resent_before + 1);
  // The cached answer goes where the first one went, not to the attacker.
  ASSERT_EQ(world.wire.size(), mark2 + 1);
  EXPECT_EQ(world.wire.back().datagram.remote, carol_b);
}

TEST_F(EndpointMobike, AnAuthenticatedRequestFromANewAddressWithoutAnUpdateMovesNothing) {
  behind_nat_a();
  world.ike->dpd_interval = 10s;
  establish();
  const natgate::Endpoint before = moon_sa().remote();
  carol.nat_public = endpoint("203.0.113.5", 0).address;  // another address, no UPDATE_SA_ADDRESSES
  const std::size_t mark = world.wire.size();
  world.advance(11s);  // carol's liveness check arrives from there
  ASSERT_FALSE(sent(carol, ExchangeType::Informational, mark).empty());
  // Answered where it came from (RFC 7296 §2.11): strongSwan's charon checks a new path with
  // such an empty INFORMATIONAL before it sends UPDATE_SA_ADDRESSES, and waits for this answer.
  std::size_t answers = 0;
  for (const WirePacket* p : sent(moon, ExchangeType::Informational, mark)) {
    if (!decode_header(p->datagram.bytes)->response()) continue;  // moon's own liveness check
    ++answers;
    EXPECT_EQ(p->datagram.remote.address, *carol.nat_public);
  }
  EXPECT_GE(answers, 1u);
  EXPECT_EQ(moon_sa().remote(), before);
  EXPECT_TRUE(moon.moves.empty());
  EXPECT_EQ(moon.counter("peer_address_changes"), 0u);
}

TEST_F(EndpointMobike, ANatRebindingOnTheSameAddressIsStillFollowed) {
  behind_nat_a();
  world.ike->dpd_interval = 10s;
  establish();
  carol.nat_shift = 3000;  // RFC 7296 §2.23: the NAT's new mapping, which carol cannot see
  world.advance(11s);
  EXPECT_EQ(moon_sa().remote(), (natgate::Endpoint{*carol.nat_public, 7500}));
  ASSERT_EQ(moon.moves.size(), 1u);
  EXPECT_EQ(moon.counter("peer_address_changes"), 1u);
}

TEST_F(EndpointMobike, EspFromANewAddressDoesNotMoveAMobikePeer) {
  behind_nat_a();
  establish();
  const std::uint32_t spi = moon.children.begin()->first;
  world.apply(moon, moon.endpoint->peer_moved(spi, endpoint("198.51.100.77", 7000), world.now));
  EXPECT_TRUE(moon.moves.empty());
  EXPECT_TRUE(moon.logged("MOBIKE peers move with UPDATE_SA_ADDRESSES"));
}

}  // namespace
}  // namespace natgate::ike::testing
