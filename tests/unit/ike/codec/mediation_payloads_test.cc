// The Mediation Extension's wire pieces (ike/codec/mediation_payloads.h): ME_ENDPOINT data against
// octets written by hand from the draft's layout, strict length/field checks, ID_PEER and ME_CONNECT
// through the message codec, and the names describe() prints.
#include "ike/codec/mediation_payloads.h"

#include <gtest/gtest.h>

#include "ike/codec/describe.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike {
namespace {

Endpoint ep(const char* addr, std::uint16_t port) { return Endpoint{*IpAddress::parse(addr), port}; }

TEST(MeEndpoint, HostV4MatchesHandAssembledOctets) {
  // Priority 255 * 2^16 + 65535 (a host candidate as strongSwan 5.9.8 ranks it), family 1 (IPv4),
  // type 1 (HOST), port 4500, address 192.0.2.10.
  Bytes wire = hex_bytes(
      "00ffffff"
      "01"
      "01"
      "1194"
      "c000020a");
  MeEndpoint e{0x00ffffff, MeEndpointType::Host, ep("192.0.2.10", 4500)};
  EXPECT_EQ(encode_me_endpoint(e), wire);
  auto back = decode_me_endpoint(wire);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, e);
  EXPECT_EQ(back->family(), MeFamily::Ipv4);
}

TEST(MeEndpoint, ServerReflexiveQueryWithoutAddressIsEightOctets) {
  // What a peer behind NAT sends in IKE_AUTH: type 3, family 0, port 0, no address.
  MeEndpoint q{(64u << 16) + 65535, MeEndpointType::ServerReflexive, std::nullopt};
  Bytes wire = encode_me_endpoint(q);
  EXPECT_EQ(wire, hex_bytes("0040ffff 00 03 0000"));
  auto back = decode_me_endpoint(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, q);
  EXPECT_EQ(back->family(), MeFamily::None);
}

TEST(MeEndpoint, PortOfAnEndpointWithoutAddressIsIgnored) {
  // Found by decode_message_fuzz: family 0 with port 256. strongSwan does not read the port then.
  auto e = decode_me_endpoint(hex_bytes("0080ffff 00 02 0100"));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->address);
  EXPECT_EQ(encode_me_endpoint(*e), hex_bytes("0080ffff 00 02 0000"));
}

TEST(MeEndpoint, V6RoundTrips) {
  MeEndpoint e{(128u << 16) + 7, MeEndpointType::PeerReflexive, ep("2001:db8::5", 61000)};
  Bytes wire = encode_me_endpoint(e);
  EXPECT_EQ(wire.size(), 24u);
  EXPECT_EQ(to_hex(ByteView(wire).first(8)),
            "0080000702"
            "02"
            "ee48");  // 61000 = 0xee48
  auto back = decode_me_endpoint(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

TEST(MeEndpoint, RejectsWhatStrongSwanRejects) {
  // Too short for the fixed part.
  auto a = decode_me_endpoint(hex_bytes("00ffffff0101"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, DecodeError::Kind::Truncated);
  // Family 3 does not exist.
  auto b = decode_me_endpoint(hex_bytes("00ffffff 03 01 1194 c000020a"));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, DecodeError::Kind::Malformed);
  // Types 0 and 5 do not exist.
  EXPECT_FALSE(decode_me_endpoint(hex_bytes("00ffffff 01 00 1194 c000020a")));
  EXPECT_FALSE(decode_me_endpoint(hex_bytes("00ffffff 01 05 1194 c000020a")));
  // IPv4 family with a 16-octet address, and with trailing octets.
  auto c = decode_me_endpoint(hex_bytes("00ffffff 01 01 1194 20010db8000000000000000000000005"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, DecodeError::Kind::BadLength);
  EXPECT_FALSE(decode_me_endpoint(hex_bytes("00ffffff 01 01 1194 c000020a00")));
  // Family None with an address behind it.
  EXPECT_FALSE(decode_me_endpoint(hex_bytes("00ffffff 00 03 0000 c000020a")));
}

TEST(MeNotify, NumbersAndLengthRules) {
  EXPECT_EQ(static_cast<unsigned>(me_notify::kConnectFailed), 8192u);
  EXPECT_EQ(static_cast<unsigned>(me_notify::kMediation), 40962u);
  EXPECT_EQ(static_cast<unsigned>(me_notify::kResponse), 40968u);
  EXPECT_EQ(static_cast<unsigned>(kMeConnect), 240u);
  EXPECT_EQ(static_cast<unsigned>(kIdPeer), 128u);
  EXPECT_TRUE(is_mediation_notify(me_notify::kConnectAuth));
  EXPECT_FALSE(is_mediation_notify(iana::NotifyType::Cookie));

  EXPECT_TRUE(mediation_notify_length_ok(me_notify::kConnectId, 4));
  EXPECT_TRUE(mediation_notify_length_ok(me_notify::kConnectId, 16));
  EXPECT_FALSE(mediation_notify_length_ok(me_notify::kConnectId, 3));
  EXPECT_FALSE(mediation_notify_length_ok(me_notify::kConnectId, 17));
  EXPECT_TRUE(mediation_notify_length_ok(me_notify::kConnectKey, 16));
  EXPECT_FALSE(mediation_notify_length_ok(me_notify::kConnectKey, 33));
  EXPECT_TRUE(mediation_notify_length_ok(me_notify::kConnectAuth, 20));
  EXPECT_FALSE(mediation_notify_length_ok(me_notify::kConnectAuth, 32));
  EXPECT_FALSE(mediation_notify_length_ok(me_notify::kEndpoint, 10));
  EXPECT_TRUE(mediation_notify_length_ok(iana::NotifyType::Cookie, 3));
}

Message me_connect_request() {
  Message m;
  m.header.spi_i = IkeSpi::from_u64(0x1122334455667788);
  m.header.spi_r = IkeSpi::from_u64(0x99aabbccddeeff00);
  m.header.exchange = kMeConnect;
  m.header.set_initiator(true);
  m.header.message_id = MessageId{2};
  MeEndpoint host{0x00ffffff, MeEndpointType::Host, ep("10.1.0.2", 4500)};
  m.payloads = {IdPeer{iana::IdType::Fqdn, Bytes{'b', 'o', 'b'}},
                Notify::make(me_notify::kConnectId, hex_bytes("01020304")),
                Notify::make(me_notify::kConnectKey, Bytes(16, 0x5a)), Notify::make(me_notify::kCallback),
                Notify::make(me_notify::kEndpoint, encode_me_endpoint(host))};
  return m;
}

TEST(MeConnect, MessageRoundTripsWithIdPeer) {
  Message m = me_connect_request();
  Bytes wire = encode_message(m);
  // Header: exchange type octet 240 at offset 18; first payload ID_PEER (128) at offset 16.
  EXPECT_EQ(wire[16], 128);
  EXPECT_EQ(wire[18], 240);
  auto back = decode_message(wire);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, m);
  const IdPeer* idp = find<IdPeer>(*back);
  ASSERT_NE(idp, nullptr);
  EXPECT_EQ(idp->data, (Bytes{'b', 'o', 'b'}));
}

TEST(MeConnect, IdPeerBodyIsLaidOutLikeIdi) {
  // ID_PEER alone in a chain: generic header (next 0, flags 0, length 11), ID type 2 (FQDN),
  // 3 reserved octets, "bob".
  PayloadChain chain = encode_payload_chain({IdPeer{iana::IdType::Fqdn, Bytes{'b', 'o', 'b'}}});
  EXPECT_EQ(chain.first_type, kIdPeer);
  EXPECT_EQ(chain.bytes, hex_bytes("00 00 000b 02 000000 626f62"));
}

TEST(MeConnect, DescribeNamesTheMediationPieces) {
  EXPECT_EQ(describe(me_connect_request()),
            "ME_CONNECT request #2 [IDp N(ME_CID) N(ME_CKEY) N(ME_CB) N(ME_EP)]");
  EXPECT_EQ(notify_name(me_notify::kConnectFailed), "ME_CONN_FAIL");
  EXPECT_EQ(notify_name(me_notify::kMediation), "ME_MED");
  EXPECT_EQ(notify_name(me_notify::kResponse), "ME_R");
  EXPECT_EQ(exchange_name(kMeConnect), "ME_CONNECT");
  EXPECT_EQ(payload_name(kIdPeer), "IDp");
}

}  // namespace
}  // namespace natgate::ike
