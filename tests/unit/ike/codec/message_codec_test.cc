// Decoding and encoding whole messages and inner chains (RFC 7296 §3).
#include "ike/codec/message_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "sample_messages.h"

namespace natgate::ike {
namespace {

std::string repeat(const char* hex_octet, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += hex_octet;
  return s;
}

// An IKE_SA_INIT request assembled by hand from RFC 7296 §3, octet by octet, independent of the encoder.
Bytes hand_assembled_ike_sa_init() {
  std::string hex =
      // IKE header: SPIi, SPIr = 0, next = SA (33), version 2.0, IKE_SA_INIT (34), flags I, MID 0, length 208
      "0011223344556677"
      "0000000000000000"
      "21"
      "20"
      "22"
      "08"
      "00000000"
      "000000d0"
      // SA: next KE (34), length 48
      "22"
      "00"
      "0030"
      //   proposal: last, length 44, #1, IKE, SPI size 0, 4 transforms
      "00"
      "00"
      "002c"
      "01"
      "01"
      "00"
      "04"
      //     ENCR AES-CBC (12) with Key Length (TV, 14) = 256
      "03"
      "00"
      "000c"
      "01"
      "00"
      "000c"
      "800e"
      "0100"
      //     INTEG HMAC-SHA2-256-128 (12)
      "03"
      "00"
      "0008"
      "03"
      "00"
      "000c"
      //     PRF HMAC-SHA2-256 (5)
      "03"
      "00"
      "0008"
      "02"
      "00"
      "0005"
      //     DH group 31 (Curve25519), last transform
      "00"
      "00"
      "0008"
      "04"
      "00"
      "001f"
      // KE: next Nonce (40), length 40, group 31, reserved, 32 octets
      "28"
      "00"
      "0028"
      "001f"
      "0000" +
      repeat("ab", 32) +
      // Nonce: next N (41), length 36
      "29"
      "00"
      "0024" +
      repeat("cd", 32) +
      // N(NAT_DETECTION_SOURCE_IP = 16388): next N, length 28, protocol 0, SPI size 0
      "29"
      "00"
      "001c"
      "00"
      "00"
      "4004" +
      repeat("11", 20) +
      // N(NAT_DETECTION_DESTINATION_IP = 16389): last payload
      "00"
      "00"
      "001c"
      "00"
      "00"
      "4005" +
      repeat("22", 20);
  return hex_bytes(hex);
}

TEST(MessageCodec, DecodesHandAssembledIkeSaInit) {
  Bytes wire = hand_assembled_ike_sa_init();
  ASSERT_EQ(wire.size(), 208u);
  auto m = decode_message(wire);
  ASSERT_TRUE(m) << m.error().to_string();

  EXPECT_EQ(m->header.spi_i.to_u64(), 0x0011223344556677u);
  EXPECT_TRUE(m->header.spi_r.is_zero());
  EXPECT_EQ(m->header.exchange, iana::ExchangeType::IkeSaInit);
  EXPECT_TRUE(m->header.initiator());
  EXPECT_FALSE(m->header.response());
  EXPECT_EQ(m->header.message_id, MessageId{0});
  ASSERT_EQ(m->payloads.size(), 5u);

  const auto* sa = find<SecurityAssociation>(*m);
  ASSERT_NE(sa, nullptr);
  ASSERT_EQ(sa->proposals.size(), 1u);
  const Proposal& p = sa->proposals[0];
  EXPECT_EQ(p.number, 1);
  EXPECT_EQ(p.protocol, iana::ProtocolId::Ike);
  EXPECT_TRUE(p.spi.empty());
  ASSERT_EQ(p.transforms.size(), 4u);
  EXPECT_EQ(p.transforms[0], Transform::make(iana::EncrId::AesCbc, 256));
  EXPECT_EQ(p.transforms[0].key_length(), 256);
  EXPECT_EQ(p.transforms[1], Transform::make(iana::IntegId::HmacSha2_256_128));
  EXPECT_EQ(p.transforms[2], Transform::make(iana::PrfId::HmacSha2_256));
  EXPECT_EQ(p.transforms[3], Transform::make(iana::DhGroup::Curve25519));

  const auto* ke = find<KeyExchange>(*m);
  ASSERT_NE(ke, nullptr);
  EXPECT_EQ(ke->group, iana::DhGroup::Curve25519);
  EXPECT_EQ(ke->data, Bytes(32, 0xab));
  EXPECT_EQ(find<Nonce>(*m)->data, Bytes(32, 0xcd));

  auto notifies = find_all<Notify>(*m);
  ASSERT_EQ(notifies.size(), 2u);
  EXPECT_EQ(notifies[0]->type, iana::NotifyType::NatDetectionSourceIp);
  EXPECT_EQ(notifies[0]->data, Bytes(20, 0x11));
  EXPECT_EQ(notifies[1]->type, iana::NotifyType::NatDetectionDestinationIp);
  EXPECT_EQ(find_notify(*m, iana::NotifyType::NatDetectionDestinationIp)->data, Bytes(20, 0x22));
  EXPECT_EQ(find_notify(*m, iana::NotifyType::Cookie), nullptr);
}

TEST(MessageCodec, ReencodesHandAssembledBytesExactly) {
  Bytes wire = hand_assembled_ike_sa_init();
  auto m = decode_message(wire);
  ASSERT_TRUE(m);
  EXPECT_EQ(to_hex(encode_message(*m)), to_hex(wire));
}

TEST(MessageCodec, RoundTripsEveryPayloadType) {
  for (const Message& m : testing::all_samples()) {
    Bytes wire = encode_message(m);
    auto back = decode_message(wire);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, m);
    EXPECT_EQ(encode_message(*back), wire);
  }
  // The sample really covers every type the Payload variant can hold.
  Message all = testing::every_payload_type();
  std::vector<bool> seen(std::variant_size_v<Payload>, false);
  for (const auto& p : all.payloads) seen[p.index()] = true;
  seen[Payload(EncryptedFragment{}).index()] = true;  // SKF cannot share a message with SK; own sample
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(seen[i]) << "variant alternative " << i;
}

TEST(MessageCodec, WritesHeaderLengthAndPayloadChain) {
  Message m = testing::ike_sa_init_request();
  Bytes wire = encode_message(m);
  // RFC 7296 §3.1: Next Payload at octet 16, version 0x20 at 17, Length at 24..27.
  EXPECT_EQ(wire[16], 33);
  EXPECT_EQ(wire[17], 0x20);
  EXPECT_EQ(wire[18], 34);
  EXPECT_EQ(wire[19], 0x08);
  std::size_t len = (std::size_t{wire[24]} << 24) | (wire[25] << 16) | (wire[26] << 8) | wire[27];
  EXPECT_EQ(len, wire.size());
  // Walk the generic headers: each Next Payload names the following payload, the last one says 0.
  std::size_t pos = IkeHeader::kSize;
  std::uint8_t expected_type = 33;
  for (std::size_t i = 0; i < m.payloads.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint8_t>(payload_type(m.payloads[i])), expected_type);
    expected_type = wire[pos];
    pos += (std::size_t{wire[pos + 2]} << 8) | wire[pos + 3];
  }
  EXPECT_EQ(expected_type, 0);
  EXPECT_EQ(pos, wire.size());
}

TEST(MessageCodec, RoundTripsInnerChain) {
  auto inner = testing::ike_auth_inner_payloads();
  PayloadChain chain = encode_payload_chain(inner);
  EXPECT_EQ(chain.first_type, PayloadType::IdInitiator);
  auto back = decode_payload_chain(chain.first_type, chain.bytes);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, inner);
}

TEST(MessageCodec, InnerChainMayNotNestEncryptedPayload) {
  PayloadChain chain = encode_payload_chain({Nonce{Bytes(8, 1)}, Encrypted{PayloadType::Nonce, Bytes(4, 2)}});
  auto back = decode_payload_chain(chain.first_type, chain.bytes);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().kind, DecodeError::Kind::Malformed);
  EXPECT_EQ(back.error().offset, 12u);
  EXPECT_EQ(back.error().where, PayloadType::Encrypted);
}

TEST(MessageCodec, EmptyChainAndHeaderOnlyMessage) {
  Message m;
  m.header.exchange = iana::ExchangeType::Informational;
  Bytes wire = encode_message(m);
  EXPECT_EQ(wire.size(), IkeHeader::kSize);
  EXPECT_EQ(wire[16], 0);
  auto back = decode_message(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
  auto chain = decode_payload_chain(PayloadType::None, {});
  ASSERT_TRUE(chain);
  EXPECT_TRUE(chain->empty());
}

TEST(MessageCodec, KeepsUnknownNonCriticalPayloadAndSkipsIt) {
  // RFC 7296 §2.5: an unknown payload without the critical bit is ignored, the rest still decodes.
  Message m = testing::ike_sa_init_request();
  m.payloads.insert(m.payloads.begin() + 1, UnknownPayload{99, false, Bytes{1, 2, 3}});
  auto back = decode_message(encode_message(m));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(std::get<UnknownPayload>(back->payloads[1]), (UnknownPayload{99, false, Bytes{1, 2, 3}}));
  EXPECT_NE(find<KeyExchange>(*back), nullptr);
}

TEST(MessageCodec, IgnoresReservedBitsAndCriticalBitOfKnownPayloads) {
  // RFC 7296 §3.2: reserved bits are ignored on receipt; the critical bit is ignored for known types.
  Bytes wire = hand_assembled_ike_sa_init();
  Bytes noisy = wire;
  noisy[28 + 1] = 0xff;      // SA generic header: critical + reserved bits
  noisy[28 + 4 + 1] = 0x5a;  // proposal reserved octet
  noisy[76 + 6] = 0x77;      // KE reserved octets
  auto m = decode_message(noisy);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(*m, *decode_message(wire));
  EXPECT_EQ(encode_message(*m), wire);  // sent back canonical
}

TEST(MessageCodec, DecodesHeaderAlone) {
  Bytes wire = encode_message(testing::ike_auth_request_encrypted());
  auto h = decode_header(wire);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->spi_r.to_u64(), 0xfedcba9876543210u);
  EXPECT_EQ(h->exchange, iana::ExchangeType::IkeAuth);
  EXPECT_EQ(h->message_id, MessageId{1});
}

TEST(MessageCodec, HeaderFlagsAndSpiHelpers) {
  IkeHeader h;
  h.set_initiator(true);
  h.set_response(true);
  EXPECT_EQ(h.flags, 0x28);
  h.set_initiator(false);
  EXPECT_EQ(h.flags, 0x20);
  EXPECT_TRUE(h.response());
  EXPECT_FALSE(h.initiator());
  IkeSpi s = IkeSpi::from_u64(0x0102030405060708);
  EXPECT_EQ(s.to_string(), "0102030405060708");
  EXPECT_EQ(s.bytes[0], 1);
  EXPECT_EQ(std::hash<IkeSpi>{}(s), std::hash<IkeSpi>{}(IkeSpi::from_u64(0x0102030405060708)));
}

TEST(MessageCodec, NotifyAndDeleteHelpers) {
  Notify n = Notify::make(iana::NotifyType::InvalidKePayload, {0, 19});
  EXPECT_TRUE(n.is_error());
  EXPECT_FALSE(Notify::make(iana::NotifyType::Cookie).is_error());
  Message m{IkeHeader{}, {Delete::ike_sa(), Delete::child_sas(iana::ProtocolId::Esp, {Bytes{9, 9, 9, 9}})}};
  Bytes wire = encode_message(m);
  // Delete of the IKE SA: protocol 1, SPI size 0, no SPIs (RFC 7296 §3.11).
  EXPECT_EQ(to_hex(ByteView(wire).subspan(28, 8)), "2a00000801000000");
  EXPECT_EQ(*decode_message(wire), m);
}

}  // namespace
}  // namespace natgate::ike
