// RFC 5685 §9 notification data (ike/codec/redirect_payloads.h) against octets written by hand
// from the RFC's layout, the strict length checks, and the notify payloads as the codec frames them.
#include "ike/codec/redirect_payloads.h"

#include <gtest/gtest.h>

#include "ike/codec/describe.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(RedirectData, Ipv4WithNonceMatchesHandAssembledOctets) {
  // GW Ident Type 1 (IPv4), GW Ident Len 4, 192.0.2.3, then the nonce data.
  const Bytes wire = hex_bytes("01 04 c0000203 aabbccdd");
  const RedirectData r{GatewayId{ip("192.0.2.3")}, hex_bytes("aabbccdd")};
  EXPECT_EQ(encode_redirect(r), wire);
  auto back = decode_redirect(wire);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->gateway.type(), GatewayIdType::Ipv4);
}

TEST(RedirectData, Ipv6WithoutNonceAsInIkeAuth) {
  // §4.2: in IKE_AUTH the REDIRECT carries no nonce data.
  const Bytes wire = hex_bytes("02 10 20010db8000000000000000000000001");
  const RedirectData r{GatewayId{ip("2001:db8::1")}, {}};
  EXPECT_EQ(encode_redirect(r), wire);
  auto back = decode_redirect(wire);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, r);
  EXPECT_TRUE(back->nonce.empty());
}

TEST(RedirectData, FqdnIdentity) {
  // Type 3, length 10, "gw.example", nonce 0x01.
  const Bytes wire = hex_bytes("03 0a 67772e6578616d706c65 01");
  const RedirectData r{GatewayId{std::string("gw.example")}, Bytes{0x01}};
  EXPECT_EQ(encode_redirect(r), wire);
  auto back = decode_redirect(wire);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->gateway.to_string(), "gw.example");
}

TEST(RedirectData, RejectsWhatDoesNotAddUp) {
  using Kind = DecodeError::Kind;
  auto kind = [](const char* hex) {
    auto r = decode_redirect(hex_bytes(hex));
    EXPECT_FALSE(r) << hex;
    return r ? Kind::Malformed : r.error().kind;
  };
  EXPECT_EQ(kind(""), Kind::Truncated);
  EXPECT_EQ(kind("01"), Kind::Truncated);
  EXPECT_EQ(kind("01 05 c000020300"), Kind::BadLength);  // IPv4 of 5 octets
  EXPECT_EQ(kind("02 04 c0000203"), Kind::BadLength);    // IPv6 of 4 octets
  EXPECT_EQ(kind("01 04 c00002"), Kind::Truncated);      // length past the data
  EXPECT_EQ(kind("03 00"), Kind::BadLength);             // empty FQDN
  EXPECT_EQ(kind("04 04 c0000203"), Kind::Malformed);    // unknown identity type
  EXPECT_EQ(kind("00 04 c0000203"), Kind::Malformed);
}

TEST(RedirectedFrom, IdentityOnlyAndNothingAfterIt) {
  const Bytes wire = hex_bytes("01 04 c0000202");
  EXPECT_EQ(encode_redirected_from(GatewayId{ip("192.0.2.2")}), wire);
  auto back = decode_redirected_from(wire);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, GatewayId{ip("192.0.2.2")});
  auto trailing = decode_redirected_from(hex_bytes("01 04 c0000202 00"));
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().kind, DecodeError::Kind::TrailingData);
}

TEST(RedirectNotifies, FramedAsNotifyPayloadsWithIanaNumbers) {
  // RFC 7296 §3.10: next payload, flags, length, protocol 0, SPI size 0, type; RFC 5685 §10 numbers
  // 16406 (0x4016), 16407 (0x4017) and 16408 (0x4018).
  std::vector<Payload> payloads{
      Notify::make(redirect_notify::kSupported),
      Notify::make(redirect_notify::kRedirect, encode_redirect({GatewayId{ip("192.0.2.3")}, Bytes{0xee}})),
      Notify::make(redirect_notify::kRedirectedFrom, encode_redirected_from(GatewayId{ip("192.0.2.2")})),
  };
  auto chain = encode_payload_chain(payloads);
  EXPECT_EQ(chain.first_type, iana::PayloadType::Notify);
  EXPECT_EQ(chain.bytes, hex_bytes("29 00 0008 00 00 4016"
                                   "29 00 000f 00 00 4017 01 04 c0000203 ee"
                                   "00 00 000e 00 00 4018 01 04 c0000202"));
  auto back = decode_payload_chain(chain.first_type, chain.bytes);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, payloads);
  EXPECT_EQ(describe(*back), "[N(REDIR_SUP) N(REDIR) N(REDIR_FROM)]");
}

}  // namespace
}  // namespace natgate::ike
