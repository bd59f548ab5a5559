// RFC 7296 §2.15 AUTH octets and shared-key AUTH, checked against a real strongSwan 5.9.8 exchange
// (tests/unit/ike/codec/strongswan_exchange.h): natgate recomputes, byte for byte, the AUTH payloads
// both charons sent, from the IKE_SA_INIT messages, the nonces, SK_pi/SK_pr and the PSK.
#include "ike/auth/shared_key_auth.h"

#include <gtest/gtest.h>

#include "crypto/prf.h"
#include "ike/auth/auth_octets.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"
#include "ike/suite/message_protector.h"
#include "ike/suite/proposal_spec.h"
#include "tests/unit/ike/codec/strongswan_exchange.h"

namespace natgate::ike {
namespace {

namespace ss = testing::strongswan;
constexpr std::string_view kPsk = "capture-only-psk";

CryptoSuite strongswan_suite() {
  auto spec = parse_proposal(iana::ProtocolId::Ike, "aes256-sha256-ecp256");
  return select_suite(*spec, *spec).value();
}

// Opens SK or SKF messages with one direction's keys and returns the decoded inner payloads.
std::vector<Payload> open_messages(std::initializer_list<const char*> frames, const char* sk_e,
                                   const char* sk_a) {
  auto mp = MessageProtector::create(strongswan_suite(), SecretBytes(hex_bytes(sk_e)),
                                     SecretBytes(hex_bytes(sk_a)));
  EXPECT_TRUE(mp);
  Bytes chain;
  PayloadType first = PayloadType::None;
  for (const char* hex : frames) {
    const Bytes wire = hex_bytes(hex);
    auto v = decode_encrypted_message(wire);
    EXPECT_TRUE(v);
    if (first == PayloadType::None) first = v->first_inner;
    auto part = mp->open(v->aad, v->body);
    EXPECT_TRUE(part) << part.error();
    append(chain, *part);
  }
  auto payloads = decode_payload_chain(first, chain);
  EXPECT_TRUE(payloads);
  return payloads ? *payloads : std::vector<Payload>{};
}

Bytes nonce_of(const char* message_hex) {
  auto m = decode_message(hex_bytes(message_hex));
  return find<Nonce>(*m)->data;
}

TEST(AuthOctets, RestOfIdPayloadHasTypeAndThreeReservedOctets) {
  EXPECT_EQ(to_hex(rest_of_id_payload(iana::IdType::Fqdn, as_bytes("moon"))), "020000006d6f6f6e");
  EXPECT_EQ(to_hex(rest_of_id_payload(iana::IdType::Ipv4Addr, hex_bytes("c0000201"))), "01000000c0000201");
}

TEST(AuthOctets, AreMessageNonceAndMacedId) {
  const Bytes msg = hex_bytes("aabbcc"), nonce = hex_bytes("0102");
  const SecretBytes sk_p(hex_bytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
  auto octets =
      auth_signed_octets(msg, nonce, iana::PrfId::HmacSha2_256, sk_p, iana::IdType::Fqdn, as_bytes("moon"));
  ASSERT_TRUE(octets) << octets.error();
  ASSERT_EQ(octets->size(), 3u + 2u + 32u);
  EXPECT_EQ(to_hex(ByteView(*octets).first(5)), "aabbcc0102");
  // prf(SK_p, RestOfIDPayload), computed here with the crypto layer's HMAC directly.
  auto mac = crypto::Prf::create(crypto::Digest::Sha256, sk_p.view());
  const SecretBytes expected = mac->compute({hex_bytes("020000006d6f6f6e")});
  EXPECT_EQ(to_hex(ByteView(*octets).subspan(5)), to_hex(expected.view()));
  // Every piece matters.
  EXPECT_NE(*octets, *auth_signed_octets(msg, nonce, iana::PrfId::HmacSha2_256, sk_p, iana::IdType::Fqdn,
                                         as_bytes("mooN")));
  EXPECT_NE(*octets, *auth_signed_octets(msg, nonce, iana::PrfId::HmacSha2_256, sk_p, iana::IdType::KeyId,
                                         as_bytes("moon")));
  EXPECT_FALSE(auth_signed_octets({}, nonce, iana::PrfId::HmacSha2_256, sk_p, iana::IdType::Fqdn, {}));
}

TEST(SharedKeyAuth, ReproducesStrongswanInitiatorAuth) {
  const auto inner = open_messages(
      {ss::kIkeAuthRequestFragment1, ss::kIkeAuthRequestFragment2, ss::kIkeAuthRequestFragment3}, ss::kSkEi,
      ss::kSkAi);
  const IdInitiator* idi = find<IdInitiator>(inner);
  const Authentication* auth = find<Authentication>(inner);
  ASSERT_NE(idi, nullptr);
  ASSERT_NE(auth, nullptr);
  ASSERT_EQ(auth->method, iana::AuthMethod::SharedKeyMic);

  // InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
  auto octets = auth_signed_octets(hex_bytes(ss::kIkeSaInitRequest), nonce_of(ss::kIkeSaInitResponse),
                                   iana::PrfId::HmacSha2_256, SecretBytes(hex_bytes(ss::kSkPi)), *idi);
  ASSERT_TRUE(octets);
  auto ours = shared_key_auth(iana::PrfId::HmacSha2_256, as_bytes(kPsk), *octets);
  ASSERT_TRUE(ours);
  EXPECT_EQ(to_hex(*ours), to_hex(auth->data));
  EXPECT_TRUE(verify_shared_key_auth(iana::PrfId::HmacSha2_256, as_bytes(kPsk), *octets, auth->data));
  EXPECT_FALSE(verify_shared_key_auth(iana::PrfId::HmacSha2_256, as_bytes("wrong-psk"), *octets, auth->data));
  // The responder's nonce, not the initiator's, goes into the initiator's octets.
  auto wrong = auth_signed_octets(hex_bytes(ss::kIkeSaInitRequest), nonce_of(ss::kIkeSaInitRequest),
                                  iana::PrfId::HmacSha2_256, SecretBytes(hex_bytes(ss::kSkPi)), *idi);
  EXPECT_FALSE(verify_shared_key_auth(iana::PrfId::HmacSha2_256, as_bytes(kPsk), *wrong, auth->data));
}

TEST(SharedKeyAuth, ReproducesStrongswanResponderAuth) {
  const auto inner = open_messages({ss::kIkeAuthResponse}, ss::kSkEr, ss::kSkAr);
  const IdResponder* idr = find<IdResponder>(inner);
  const Authentication* auth = find<Authentication>(inner);
  ASSERT_NE(idr, nullptr);
  ASSERT_NE(auth, nullptr);
  auto octets = auth_signed_octets(hex_bytes(ss::kIkeSaInitResponse), nonce_of(ss::kIkeSaInitRequest),
                                   iana::PrfId::HmacSha2_256, SecretBytes(hex_bytes(ss::kSkPr)), *idr);
  ASSERT_TRUE(octets);
  EXPECT_EQ(to_hex(*shared_key_auth(iana::PrfId::HmacSha2_256, as_bytes(kPsk), *octets)), to_hex(auth->data));
}

TEST(SharedKeyAuth, RejectsTamperingAndWrongLength) {
  const Bytes octets = hex_bytes("00112233445566778899");
  auto auth = shared_key_auth(iana::PrfId::HmacSha2_384, as_bytes("secret"), octets);
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->size(), 48u);
  EXPECT_TRUE(verify_shared_key_auth(iana::PrfId::HmacSha2_384, as_bytes("secret"), octets, *auth));
  Bytes flipped = *auth;
  flipped[47] ^= 1;
  EXPECT_FALSE(verify_shared_key_auth(iana::PrfId::HmacSha2_384, as_bytes("secret"), octets, flipped));
  EXPECT_FALSE(verify_shared_key_auth(iana::PrfId::HmacSha2_384, as_bytes("secret"), octets,
                                      ByteView(*auth).first(32)));
  Bytes other = octets;
  other[0] ^= 1;
  EXPECT_FALSE(verify_shared_key_auth(iana::PrfId::HmacSha2_384, as_bytes("secret"), other, *auth));
  EXPECT_FALSE(shared_key_auth(iana::PrfId::HmacSha2_384, {}, octets));
}

TEST(EapAuth, UsesTheMskOrFallsBackToSkP) {
  const Bytes octets = hex_bytes("0a0b0c");
  const SecretBytes msk(Bytes(64, 0x5a));
  const SecretBytes sk_pi(Bytes(32, 0x11));
  auto with_msk = eap_auth(iana::PrfId::HmacSha2_256, msk, sk_pi, octets);
  ASSERT_TRUE(with_msk);
  EXPECT_EQ(*with_msk, *shared_key_auth(iana::PrfId::HmacSha2_256, msk.view(), octets));
  EXPECT_TRUE(verify_eap_auth(iana::PrfId::HmacSha2_256, msk, sk_pi, octets, *with_msk));
  // RFC 7296 §2.16: a method without an MSK uses SK_pi / SK_pr as the shared key.
  auto without = eap_auth(iana::PrfId::HmacSha2_256, SecretBytes(), sk_pi, octets);
  ASSERT_TRUE(without);
  EXPECT_EQ(*without, *shared_key_auth(iana::PrfId::HmacSha2_256, sk_pi.view(), octets));
  EXPECT_NE(*without, *with_msk);
  EXPECT_FALSE(verify_eap_auth(iana::PrfId::HmacSha2_256, SecretBytes(), sk_pi, octets, *with_msk));
}

}  // namespace
}  // namespace natgate::ike
