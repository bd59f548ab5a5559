// The connectivity check message (ike/mediation/check_message.h) against octets assembled by hand.
#include "ike/mediation/check_message.h"

#include <gtest/gtest.h>

#include "ike/codec/message_codec.h"

namespace natgate::ike::mediation {
namespace {

SecretBytes key(std::uint8_t first) {
  Bytes k(16);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(first + i);
  return SecretBytes(ByteView(k));
}

const Bytes kConnectId = hex_bytes("0a0b0c0d");
const MeEndpoint kRequestEndpoint{0x0080ffff, MeEndpointType::PeerReflexive, std::nullopt};

TEST(CheckMessage, RequestMatchesHandAssembledOctets) {
  Bytes expected = hex_bytes(
      // IKE header: SPIs zero, next N (41), 2.0, INFORMATIONAL (37), flags I, MID 1, length 84
      "0000000000000000 0000000000000000 29 20 25 08 00000001 00000054"
      // N(ME_CONNECTID = 40965 = 0xa005): next N, length 12, proto 0, SPI size 0, data 0a0b0c0d
      "29 00 000c 00 00 a005 0a0b0c0d"
      // N(ME_ENDPOINT = 0xa003): next N, length 16: priority 128*2^16+65535, family 0, type 2, port 0
      "29 00 0010 00 00 a003 0080ffff 00 02 0000"
      // N(ME_CONNECTAUTH = 0xa007): last, length 28,
      // SHA-1(00000001 | 0a0b0c0d | 0080ffff00020000 | 000102...0f) computed outside natgate
      "00 00 001c 00 00 a007 401a3609803189523bc324fb54d8e9f17ee5b7a0");
  Message m = build_check(true, 1, kConnectId, kRequestEndpoint, key(0));
  EXPECT_EQ(encode_message(m), expected);

  auto decoded = decode_message(expected);
  ASSERT_TRUE(decoded);
  auto check = parse_check(*decoded);
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->request);
  EXPECT_EQ(check->message_id, 1u);
  EXPECT_EQ(check->connect_id, kConnectId);
  EXPECT_EQ(check->endpoint, kRequestEndpoint);
  EXPECT_TRUE(verify_check(*check, key(0)));
  EXPECT_FALSE(verify_check(*check, key(1)));
}

TEST(CheckMessage, ResponseCarriesTheSeenAddressAndTheRFlag) {
  MeEndpoint seen{0x0080ffff, MeEndpointType::PeerReflexive,
                  Endpoint{*IpAddress::parse("203.0.113.1"), 40000}};
  Bytes wire = encode_message(build_check(false, 3, kConnectId, seen, key(7)));
  EXPECT_EQ(wire[19], 0x20);  // R flag only
  auto check = parse_check(*decode_message(wire));
  ASSERT_TRUE(check);
  EXPECT_FALSE(check->request);
  EXPECT_EQ(check->message_id, 3u);
  EXPECT_EQ(check->endpoint, seen);
  EXPECT_TRUE(verify_check(*check, key(7)));
}

TEST(CheckMessage, TamperingBreaksTheSignature) {
  Message m = build_check(true, 1, kConnectId, kRequestEndpoint, key(0));
  m.header.message_id = MessageId{2};  // the MID is signed
  auto check = parse_check(m);
  ASSERT_TRUE(check);
  EXPECT_FALSE(verify_check(*check, key(0)));
}

TEST(CheckMessage, WhatIsNotACheck) {
  Message m = build_check(true, 1, kConnectId, kRequestEndpoint, key(0));
  Message with_spi = m;
  with_spi.header.spi_i = IkeSpi::from_u64(1);
  EXPECT_EQ(parse_check(with_spi).error(), CheckError::NotACheck);
  Message encrypted = m;
  encrypted.payloads = {Encrypted{PayloadType::Notify, Bytes(32, 0)}};
  EXPECT_FALSE(looks_like_check(encrypted));
  Message missing = m;
  missing.payloads.pop_back();
  EXPECT_EQ(parse_check(missing).error(), CheckError::MissingPayload);
  Message short_auth = m;
  std::get<Notify>(short_auth.payloads[2]).data.resize(19);
  EXPECT_EQ(parse_check(short_auth).error(), CheckError::BadNotify);
  Message bad_endpoint = m;
  std::get<Notify>(bad_endpoint.payloads[1]).data[5] = 9;  // type 9
  EXPECT_EQ(parse_check(bad_endpoint).error(), CheckError::BadNotify);
}

}  // namespace
}  // namespace natgate::ike::mediation
