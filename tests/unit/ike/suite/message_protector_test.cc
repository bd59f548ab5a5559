// SK payload protection (RFC 7296 §3.14, RFC 5282, RFC 7634): round trips, tamper detection,
// and the exact body layout rebuilt from the crypto primitives.
#include "ike/suite/message_protector.h"

#include <gtest/gtest.h>

namespace natgate::ike {
namespace {

using iana::ProtocolId;

CryptoSuite suite_for(std::string_view text) {
  auto spec = parse_proposal(ProtocolId::Ike, text);
  EXPECT_TRUE(spec.has_value()) << (spec ? "" : spec.error());
  auto suite = select_suite(*spec, *spec);
  EXPECT_TRUE(suite.has_value());
  return suite.value_or(CryptoSuite{});
}

struct Keys {
  SecretBytes sk_e;
  SecretBytes sk_a;
};

Keys keys_for(const CryptoSuite& s, std::uint8_t fill) {
  Bytes e(s.encr_keymat_size()), a(s.integ_key_size());
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = static_cast<std::uint8_t>(fill + i);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::uint8_t>(static_cast<std::size_t>(fill) * 3 + i);
  return {SecretBytes(e), SecretBytes(a)};
}

// A stand-in for the IKE header + SK payload header; the protector treats it as opaque.
Bytes aad_bytes() {
  return hex_bytes("0011223344556677 8899aabbccddeeff 2e202508 00000001 0000005c 2900003c");
}

Bytes payload_chain(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return b;
}

class MessageProtectorRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(MessageProtectorRoundTrip, SealOpenAndRejectTampering) {
  const CryptoSuite suite = suite_for(GetParam());
  Keys keys = keys_for(suite, 0x10);
  auto sender = MessageProtector::create(suite, keys.sk_e, keys.sk_a);
  auto receiver = MessageProtector::create(suite, keys.sk_e, keys.sk_a);
  ASSERT_TRUE(sender.has_value()) << sender.error();
  ASSERT_TRUE(receiver.has_value());
  crypto::DeterministicRandom rng(5);
  const Bytes aad = aad_bytes();

  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{100}}) {
    SCOPED_TRACE(n);
    const Bytes plain = payload_chain(n);
    auto body = sender->seal(aad, plain, rng);
    ASSERT_TRUE(body.has_value()) << body.error();
    EXPECT_EQ(body->size(), sender->sealed_size(n));
    auto opened = receiver->open(aad, *body);
    ASSERT_TRUE(opened.has_value()) << opened.error();
    EXPECT_EQ(*opened, plain);

    // One flipped bit anywhere in IV, ciphertext, ICV or the AAD is rejected.
    for (std::size_t i : {std::size_t{0}, suite.iv_size(), body->size() / 2, body->size() - suite.icv_size(),
                          body->size() - 1}) {
      Bytes bad = *body;
      bad[i] ^= 0x01;
      auto r = receiver->open(aad, bad);
      ASSERT_FALSE(r.has_value()) << "flipped body byte " << i;
      EXPECT_NE(r.error().find("integrity check failed"), std::string::npos) << r.error();
    }
    Bytes bad_aad = aad;
    bad_aad[17] ^= 0x80;
    EXPECT_FALSE(receiver->open(bad_aad, *body).has_value());
    // A body too short for IV + one block + ICV is refused before any crypto.
    auto short_body = receiver->open(aad, ByteView(*body).first(suite.iv_size() + suite.icv_size()));
    ASSERT_FALSE(short_body.has_value());
    EXPECT_NE(short_body.error().find("too short"), std::string::npos);
  }
}

TEST_P(MessageProtectorRoundTrip, WrongKeysFail) {
  const CryptoSuite suite = suite_for(GetParam());
  Keys mine = keys_for(suite, 0x10), other = keys_for(suite, 0x11);
  auto sender = MessageProtector::create(suite, mine.sk_e, mine.sk_a);
  auto receiver = MessageProtector::create(suite, other.sk_e, other.sk_a);
  ASSERT_TRUE(sender && receiver);
  crypto::DeterministicRandom rng(6);
  auto body = sender->seal(aad_bytes(), payload_chain(40), rng);
  ASSERT_TRUE(body.has_value());
  EXPECT_FALSE(receiver->open(aad_bytes(), *body).has_value());
}

INSTANTIATE_TEST_SUITE_P(Suites, MessageProtectorRoundTrip,
                         ::testing::Values("aes256gcm16-prfsha384-x25519", "aes256-sha256-modp2048",
                                           "chacha20poly1305-prfsha256-ecp256",
                                           "aes128gcm16-prfsha256-ecp384", "aes128-sha1-x25519",
                                           "aes192-sha512-ecp521"));

TEST(MessageProtector, SizesFollowTheSuite) {
  auto gcm =
      MessageProtector::create(suite_for("aes256gcm16-prfsha384-x25519"),
                               keys_for(suite_for("aes256gcm16-prfsha384-x25519"), 1).sk_e, SecretBytes());
  ASSERT_TRUE(gcm.has_value());
  // IV 8 + plaintext + Pad Length 1 + tag 16.
  EXPECT_EQ(gcm->sealed_size(0), 25u);
  EXPECT_EQ(gcm->sealed_size(100), 125u);
  EXPECT_EQ(gcm->max_plaintext_size(125), 100u);
  EXPECT_EQ(gcm->max_plaintext_size(24), 0u);

  const CryptoSuite cbc_suite = suite_for("aes256-sha256-modp2048");
  Keys k = keys_for(cbc_suite, 1);
  auto cbc = MessageProtector::create(cbc_suite, k.sk_e, k.sk_a);
  ASSERT_TRUE(cbc.has_value());
  // IV 16 + (plaintext + 1 rounded up to 16) + ICV 16.
  EXPECT_EQ(cbc->sealed_size(0), 48u);
  EXPECT_EQ(cbc->sealed_size(15), 48u);
  EXPECT_EQ(cbc->sealed_size(16), 64u);
  for (std::size_t budget = 40; budget < 140; ++budget) {
    std::size_t n = cbc->max_plaintext_size(budget);
    if (n == 0) continue;
    EXPECT_LE(cbc->sealed_size(n), budget);
    EXPECT_GT(cbc->sealed_size(n + 1), budget);
  }
}

TEST(MessageProtector, AeadLayoutIsSaltNonceExplicitIvAndTag) {
  // Rebuild the body from the primitives: nonce = salt(4) || IV(8), AAD = the bytes before the
  // IV, plaintext = chain || Pad Length 0 (RFC 5282 §3, §5.1).
  const CryptoSuite suite = suite_for("aes256gcm16-prfsha384-x25519");
  Keys k = keys_for(suite, 0x20);
  auto p = MessageProtector::create(suite, k.sk_e, k.sk_a);
  ASSERT_TRUE(p.has_value());
  crypto::DeterministicRandom rng(1);
  const Bytes chain = payload_chain(33);
  auto body = p->seal(aad_bytes(), chain, rng);
  auto second = p->seal(aad_bytes(), chain, rng);
  ASSERT_TRUE(body && second);

  ByteView iv = ByteView(*body).first(8);
  Bytes nonce(k.sk_e.data() + 32, k.sk_e.data() + 36);
  append(nonce, iv);
  Bytes padded = chain;
  padded.push_back(0);
  auto aead = crypto::Aead::create(crypto::AeadAlgorithm::AesGcm256, k.sk_e.view().first(32));
  ASSERT_TRUE(aead.has_value());
  Bytes expected(padded.size() + 16);
  ASSERT_TRUE(aead->seal(nonce, aad_bytes(), padded, expected).has_value());
  EXPECT_EQ(to_hex(ByteView(*body).subspan(8)), to_hex(expected));

  // The next message's IV is the next counter value: never repeated under this key.
  std::uint64_t a = 0, b = 0;
  for (int i = 0; i < 8; ++i) {
    a = (a << 8) | (*body)[static_cast<std::size_t>(i)];
    b = (b << 8) | (*second)[static_cast<std::size_t>(i)];
  }
  EXPECT_EQ(b, a + 1);
}

TEST(MessageProtector, CbcLayoutIsIvCiphertextAndHmacOverEverything) {
  const CryptoSuite suite = suite_for("aes256-sha256-modp2048");
  Keys k = keys_for(suite, 0x30);
  auto p = MessageProtector::create(suite, k.sk_e, k.sk_a);
  ASSERT_TRUE(p.has_value());
  crypto::DeterministicRandom rng(2);
  const Bytes chain = payload_chain(20);
  auto body = p->seal(aad_bytes(), chain, rng);
  ASSERT_TRUE(body.has_value());
  ASSERT_EQ(body->size(), 16u + 32u + 16u);

  // The IV is the random source's next 16 octets (unpredictable, RFC 7296 §3.14).
  crypto::DeterministicRandom same(2);
  EXPECT_EQ(Bytes(body->begin(), body->begin() + 16), same.bytes(16));

  ByteView iv = ByteView(*body).first(16), ct = ByteView(*body).subspan(16, 32),
           icv = ByteView(*body).last(16);
  auto mac = crypto::Mac::create(iana::IntegId::HmacSha2_256_128, k.sk_a.view());
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->compute({aad_bytes(), iv, ct}), Bytes(icv.begin(), icv.end()));

  auto cbc = crypto::Cipher::create_aes_cbc(k.sk_e.view());
  ASSERT_TRUE(cbc.has_value());
  Bytes plain(32);
  ASSERT_TRUE(cbc->decrypt(iv, ct, plain).has_value());
  EXPECT_EQ(Bytes(plain.begin(), plain.begin() + 20), chain);
  EXPECT_EQ(plain.back(), 11);  // 20 + 11 padding + 1 = 32
}

TEST(MessageProtector, ImpossiblePadLengthIsRejected) {
  // An authentic message whose Pad Length claims more octets than exist.
  const CryptoSuite suite = suite_for("aes128-sha256-modp2048");
  Keys k = keys_for(suite, 0x40);
  auto cbc = crypto::Cipher::create_aes_cbc(k.sk_e.view());
  auto mac = crypto::Mac::create(iana::IntegId::HmacSha2_256_128, k.sk_a.view());
  ASSERT_TRUE(cbc && mac);
  Bytes iv(16, 0x77), block(16, 0);
  block.back() = 16;  // 16 padding octets + the Pad Length octet = 17 > 16
  Bytes ct(16);
  ASSERT_TRUE(cbc->encrypt(iv, block, ct).has_value());
  Bytes body = iv;
  append(body, ct);
  append(body, mac->compute({aad_bytes(), iv, ct}));
  auto p = MessageProtector::create(suite, k.sk_e, k.sk_a);
  ASSERT_TRUE(p.has_value());
  auto r = p->open(aad_bytes(), body);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("Pad Length 16"), std::string::npos) << r.error();
}

TEST(MessageProtector, RejectsWrongKeyLengths) {
  const CryptoSuite suite = suite_for("aes256-sha256-modp2048");
  EXPECT_FALSE(
      MessageProtector::create(suite, SecretBytes(Bytes(16, 1)), SecretBytes(Bytes(32, 1))).has_value());
  EXPECT_FALSE(
      MessageProtector::create(suite, SecretBytes(Bytes(32, 1)), SecretBytes(Bytes(20, 1))).has_value());
  const CryptoSuite gcm = suite_for("aes128gcm16-prfsha256-x25519");
  EXPECT_FALSE(
      MessageProtector::create(gcm, SecretBytes(Bytes(16, 1)), SecretBytes()).has_value());  // no salt
  EXPECT_TRUE(MessageProtector::create(gcm, SecretBytes(Bytes(20, 1)), SecretBytes()).has_value());
}

}  // namespace
}  // namespace natgate::ike
