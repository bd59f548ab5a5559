// NAT detection and the float to port 4500 (RFC 7296 §2.23, RFC 3948).
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "natt/nat_detection.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using natt::detect_nat;
using natt::natd_hash;

TEST(NatDetectionHash, IsSha1OfSpisAddressAndPort) {
  const IkeSpi i = IkeSpi::from_u64(0x0102030405060708);
  const IkeSpi r = IkeSpi::from_u64(0x1112131415161718);
  const Bytes input = hex_bytes("0102030405060708 1112131415161718 c0000201 01f4");  // 192.0.2.1:500
  std::uint8_t expected[SHA_DIGEST_LENGTH];
  SHA1(input.data(), input.size(), expected);
  EXPECT_EQ(natd_hash(i.bytes, r.bytes, endpoint("192.0.2.1", 500)),
            Bytes(expected, expected + SHA_DIGEST_LENGTH));

  const Bytes v6 = hex_bytes("0102030405060708 0000000000000000 20010db8000000000000000000000001 1194");
  SHA1(v6.data(), v6.size(), expected);
  EXPECT_EQ(natd_hash(i.bytes, IkeSpi{}.bytes, endpoint("2001:db8::1", 4500)),
            Bytes(expected, expected + SHA_DIGEST_LENGTH));
}

class DetectNat : public ::testing::Test {
 protected:
  const natt::SpiOctets i = IkeSpi::from_u64(1).bytes;
  const natt::SpiOctets r = IkeSpi::from_u64(2).bytes;
  const Endpoint peer = endpoint("198.51.100.7", 40000);
  const Endpoint me = endpoint("192.0.2.2", 500);
};

TEST_F(DetectNat, NoNotifiesMeansNoNatTraversal) {
  NatState s = detect_nat(i, r, {}, {}, peer, me);
  EXPECT_FALSE(s.peer_supports_natt);
  EXPECT_FALSE(s.udp_encapsulation());
}

TEST_F(DetectNat, MatchingHashesMeanNoNat) {
  Bytes src = natd_hash(i, r, peer), dst = natd_hash(i, r, me);
  NatState s = detect_nat(i, r, {src}, {dst}, peer, me);
  EXPECT_TRUE(s.peer_supports_natt);
  EXPECT_FALSE(s.local_behind_nat);
  EXPECT_FALSE(s.remote_behind_nat);
}

TEST_F(DetectNat, SourceMismatchPutsThePeerBehindNat) {
  Bytes src = natd_hash(i, r, endpoint("10.0.0.5", 500)), dst = natd_hash(i, r, me);
  NatState s = detect_nat(i, r, {src}, {dst}, peer, me);
  EXPECT_TRUE(s.remote_behind_nat);
  EXPECT_FALSE(s.local_behind_nat);
}

TEST_F(DetectNat, DestinationMismatchPutsUsBehindNat) {
  Bytes src = natd_hash(i, r, peer), dst = natd_hash(i, r, endpoint("203.0.113.9", 500));
  NatState s = detect_nat(i, r, {src}, {dst}, peer, me);
  EXPECT_FALSE(s.remote_behind_nat);
  EXPECT_TRUE(s.local_behind_nat);
}

TEST_F(DetectNat, AnyOfSeveralSourceHashesWillDo) {
  Bytes other = natd_hash(i, r, endpoint("10.0.0.5", 500)), src = natd_hash(i, r, peer),
        dst = natd_hash(i, r, me);
  NatState s = detect_nat(i, r, {other, src}, {dst}, peer, me);
  EXPECT_FALSE(s.remote_behind_nat);
}

// Maps the initiator's own endpoints to a NAT's public address, a distinct port for each.
Endpoint masquerade(const Endpoint& e) {
  return endpoint("198.51.100.7", static_cast<std::uint16_t>(e.port == 500 ? 40000 : 40001));
}

TEST(NatTraversal, InitiatorBehindNatFloatsTo4500) {
  SaPair pair;
  pair.nat = masquerade;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());

  const auto* up_i = pair.log_i.first<IkeSaEstablished>();
  const auto* up_r = pair.log_r.first<IkeSaEstablished>();
  EXPECT_TRUE(up_i->nat.local_behind_nat);
  EXPECT_FALSE(up_i->nat.remote_behind_nat);
  EXPECT_TRUE(up_r->nat.remote_behind_nat);
  EXPECT_FALSE(up_r->nat.local_behind_nat);
  EXPECT_TRUE(up_i->floated);
  EXPECT_TRUE(up_r->floated);

  // IKE_SA_INIT on 500, then IKE_AUTH from our 4500 to the peer's 4500, marked for the non-ESP
  // marker; the responder answers the NAT's 4500 mapping.
  ASSERT_EQ(pair.wire.size(), 4u);
  EXPECT_FALSE(pair.wire[0].datagram.natt);
  EXPECT_EQ(pair.wire[0].datagram.remote.port, 500);
  EXPECT_TRUE(pair.wire[2].datagram.natt);
  EXPECT_EQ(pair.wire[2].datagram.local, endpoint("192.0.2.1", 4500));
  EXPECT_EQ(pair.wire[2].datagram.remote, endpoint("192.0.2.2", 4500));
  EXPECT_TRUE(pair.wire[3].datagram.natt);
  EXPECT_EQ(pair.wire[3].datagram.remote, endpoint("198.51.100.7", 40001));
  EXPECT_EQ(up_r->remote, endpoint("198.51.100.7", 40001));
  EXPECT_EQ(up_r->local, endpoint("192.0.2.2", 4500));
  EXPECT_EQ(up_i->local, endpoint("192.0.2.1", 4500));

  const auto* child_i = pair.log_i.first<ChildSaEstablished>();
  const auto* child_r = pair.log_r.first<ChildSaEstablished>();
  EXPECT_TRUE(child_i->udp_encapsulation);
  EXPECT_TRUE(child_r->udp_encapsulation);
  EXPECT_EQ(child_r->remote, endpoint("198.51.100.7", 40001)) << "ESP-in-UDP goes to the NAT mapping";
}

TEST(NatTraversal, ResponderBehindPortForwardIsDetectedToo) {
  SaPair pair;
  pair.responder_addr = endpoint("203.0.113.5", 500);
  pair.responder_private = IpAddress::parse("192.168.7.2");
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const auto* up_i = pair.log_i.first<IkeSaEstablished>();
  const auto* up_r = pair.log_r.first<IkeSaEstablished>();
  EXPECT_FALSE(up_i->nat.local_behind_nat);
  EXPECT_TRUE(up_i->nat.remote_behind_nat);
  EXPECT_TRUE(up_r->nat.local_behind_nat);
  EXPECT_FALSE(up_r->nat.remote_behind_nat);
  EXPECT_TRUE(up_i->floated);
  EXPECT_EQ(pair.wire[2].datagram.remote, endpoint("203.0.113.5", 4500));
}

TEST(NatTraversal, NoNatStaysOnPort500) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  for (const auto& rec : pair.wire) {
    EXPECT_FALSE(rec.datagram.natt);
    EXPECT_EQ(rec.datagram.local.port, 500);
    EXPECT_EQ(rec.datagram.remote.port, 500);
  }
  EXPECT_FALSE(pair.log_i.first<IkeSaEstablished>()->floated);
  EXPECT_FALSE(pair.log_r.first<ChildSaEstablished>()->udp_encapsulation);
}

TEST(NatTraversal, ForcedEncapsulationFakesTheSourceHash) {
  SaPair pair;
  pair.ike_i->force_encap = true;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());

  auto request = pair.payloads_of(0);
  const Notify* src = find_notify(request, iana::NotifyType::NatDetectionSourceIp);
  ASSERT_TRUE(src);
  EXPECT_NE(src->data, natd_hash(pair.initiator->spi_i().bytes, IkeSpi{}.bytes, pair.initiator_addr));
  EXPECT_EQ(src->data.size(), natt::kNatdHashSize);

  const auto* up_i = pair.log_i.first<IkeSaEstablished>();
  const auto* up_r = pair.log_r.first<IkeSaEstablished>();
  EXPECT_TRUE(up_r->nat.remote_behind_nat) << "the responder believes the fake";
  EXPECT_TRUE(up_i->nat.faked);
  EXPECT_FALSE(up_i->nat.local_behind_nat);
  EXPECT_TRUE(up_i->floated);
  EXPECT_TRUE(pair.log_i.first<ChildSaEstablished>()->udp_encapsulation);
  EXPECT_TRUE(pair.log_r.first<ChildSaEstablished>()->udp_encapsulation);
}

TEST(NatTraversal, ResponderFollowsANatRebinding) {
  SaPair pair;
  std::uint16_t public_port = 40001;
  pair.nat = [&](const Endpoint& e) {
    return endpoint("198.51.100.7", static_cast<std::uint16_t>(e.port == 500 ? 40000 : public_port));
  };
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  public_port = 41234;  // the NAT forgot the mapping and made a new one
  auto out = pair.initiator->check_liveness(pair.now);
  ASSERT_EQ(out.datagrams.size(), 1u);
  auto answer = pair.deliver_to_responder(out.datagrams[0]);
  const auto* moved = std::get_if<EndpointsChanged>(answer.events.empty() ? nullptr : &answer.events[0]);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->remote, endpoint("198.51.100.7", 41234));
  ASSERT_EQ(answer.datagrams.size(), 1u);
  EXPECT_EQ(answer.datagrams[0].remote, endpoint("198.51.100.7", 41234));
  EXPECT_EQ(pair.responder->remote(), endpoint("198.51.100.7", 41234));
}

}  // namespace
}  // namespace natgate::ike
