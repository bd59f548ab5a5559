// RFC 7296 key schedule against an independent computation.
//
// Expected values were made with python3's hmac module (not natgate code), transcribing the RFC:
//   prf(alg, k, s)         = hmac.new(k, s, alg).digest()
//   prf_plus(alg, k, s, n) = T1 | T2 | ... with Ti = prf(k, T(i-1) | s | i), cut to n octets
//   IKE SA:   SKEYSEED = prf(Ni|Nr, g^ir); keys = prf_plus(SKEYSEED, Ni|Nr|SPIi|SPIr) split
//             as SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr            (§2.14)
//   rekey:    SKEYSEED = prf_old(SK_d(old), g^ir(new)|Ni|Nr), then §2.14 (§2.18)
//   CHILD SA: KEYMAT = prf_plus(SK_d, [g^ir|]Ni|Nr) split encr_i, integ_i, encr_r, integ_r (§2.17)
// Inputs: Ni = 01..20, Nr = 41..60 (32 octets each), SPIi = 0102030405060708,
// SPIr = 1112131415161718; g^ir from the RFC 7748 §6.1 X25519 vector or the MODP-2048 value of
// tests/unit/crypto/key_exchange_test.cc. Rekey/CHILD exchange: Ni = 5a x40, Nr = a5 x24, SPIi =
// 2122232425262728, SPIr = 3132333435363738, g^ir = RFC 5903 §8.1 girx.
#include "ike/suite/key_schedule.h"

#include <gtest/gtest.h>

namespace natgate::ike {
namespace {

Bytes counting(std::uint8_t from, std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(from + i);
  return b;
}

std::string hex(const SecretBytes& s) { return to_hex(s.view()); }

const Bytes kNi = counting(0x01, 32);
const Bytes kNr = counting(0x41, 32);
const Bytes kSpiI = hex_bytes("0102030405060708");
const Bytes kSpiR = hex_bytes("1112131415161718");
const Bytes kX25519 = hex_bytes("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
const Bytes kModp2048 = hex_bytes(
    "0088b488f1269c2eb764b592feb1a588c3f63babac3bd8f9d25402ac2deeb96e44f70599b02dd0f2ad0f95c28ca9833c"
    "4b57154594af1b3de001c02845f6fe9c5a39bade02f8cb73642031149a334cf606421617856360b8510705096f607076"
    "b4385c3a8ce674b152ce6450e7fc68a3cec58182dffdc76729383c57e79720cbea4968afdd92ebd630ca5391123b81db"
    "674d16fd266af365bfa1f3ef40e32dd5e141743f7b1a2f1a69a9f210c8f2e1e2c10863aeed4b3c0e20a7036a080f27e0"
    "96f8546716d07077cb8c6fabaff6fee0f575e9a29b2ddbc63879b31e070fbf0f0661e2e7ed919fc50433412034780c10"
    "65a5654fe516c8eccd8d31cf7e420a12");
const Bytes kEcp256 = hex_bytes("D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE");
const Bytes kNi2(40, 0x5a);
const Bytes kNr2(24, 0xa5);
const Bytes kSpiI2 = hex_bytes("2122232425262728");
const Bytes kSpiR2 = hex_bytes("3132333435363738");

CryptoSuite ike_gcm256_sha384_x25519() {
  return {iana::ProtocolId::Ike,     {iana::EncrId::AesGcm16, 256}, iana::IntegId::None,
          iana::PrfId::HmacSha2_384, iana::DhGroup::Curve25519,     false};
}
CryptoSuite ike_aes128_sha256_modp2048() {
  return {iana::ProtocolId::Ike,     {iana::EncrId::AesCbc, 128}, iana::IntegId::HmacSha2_256_128,
          iana::PrfId::HmacSha2_256, iana::DhGroup::Modp2048,     false};
}

TEST(KeySchedule, AeadIkeSaHasNoIntegrityKeysAndSaltedEncryptionKeys) {
  auto keys = derive_ike_sa_keys(ike_gcm256_sha384_x25519(), kX25519, kNi, kNr, kSpiI, kSpiR);
  ASSERT_TRUE(keys.has_value()) << keys.error();
  EXPECT_EQ(
      hex(keys->sk_d),
      "03cd581a1e32fa89be49ba70a355cd10c336d2f036c21ed0259133aaab4bfbb755b60de9e14fb928a2b8d1da98646c96");
  EXPECT_TRUE(keys->sk_ai.empty());
  EXPECT_TRUE(keys->sk_ar.empty());
  // 32-octet AES-256 key + 4-octet salt (RFC 5282 §7.1).
  EXPECT_EQ(hex(keys->sk_ei), "1d4133f1c0774653bc587e9d80df3228673a072d4db3986f89d7c86eef7dae89d0f1574b");
  EXPECT_EQ(hex(keys->sk_er), "89663965fe73b87598f8d319334d8e8408bc8304059553689eeb870f4b4620ebf05f24b9");
  EXPECT_EQ(
      hex(keys->sk_pi),
      "d11fb30408a88a01f9fb8ca46c6d9bbeee20184d4a20f336f3cd0f336ee52036b33b730b2fcac8fa2a0966bc9f417ba1");
  EXPECT_EQ(
      hex(keys->sk_pr),
      "ea5281226b2bec5ac7d51e0174343d359e5a4ce7c1cc11737fd017851c47987d57528ffd71bbc41d2728f2adc1ed6548");
}

TEST(KeySchedule, CbcHmacIkeSaFromModpSecret) {
  auto keys = derive_ike_sa_keys(ike_aes128_sha256_modp2048(), kModp2048, kNi, kNr, kSpiI, kSpiR);
  ASSERT_TRUE(keys.has_value()) << keys.error();
  EXPECT_EQ(hex(keys->sk_d), "00044e92ec8271a2fa4e56bb96ddb556c2257d2a6043160b9d61c60da7455044");
  EXPECT_EQ(hex(keys->sk_ai), "1ca2456da398427cfecfc82160c46de081acc47dd0957a113fdc9bd8266e663a");
  EXPECT_EQ(hex(keys->sk_ar), "049f6d78d0d833245f6a92fdb88fe8b9211149ba63a912588fcea8ce4ae93481");
  EXPECT_EQ(hex(keys->sk_ei), "b1d4ad22211e94bb809553cf64570bb1");
  EXPECT_EQ(hex(keys->sk_er), "b2baee5456e9685b04e9d28149d40343");
  EXPECT_EQ(hex(keys->sk_pi), "5b18a7bdcc4875c56ad3aea29a0e098ecd52a352ec65180f2e72cfad4e0f8af9");
  EXPECT_EQ(hex(keys->sk_pr), "212ce868c6ee6edb74da803130d0fdc3fc18db632bad6b1a90f20a3cdc844a2c");
}

TEST(KeySchedule, RekeyedIkeSaUsesOldPrfForSkeyseedAndNewSuiteForKeys) {
  auto old = derive_ike_sa_keys(ike_gcm256_sha384_x25519(), kX25519, kNi, kNr, kSpiI, kSpiR);
  ASSERT_TRUE(old.has_value());
  const CryptoSuite next{iana::ProtocolId::Ike,           {iana::EncrId::AesCbc, 256},
                         iana::IntegId::HmacSha2_512_256, iana::PrfId::HmacSha2_512,
                         iana::DhGroup::Ecp256,           false};
  auto keys = derive_rekeyed_ike_sa_keys(iana::PrfId::HmacSha2_384, old->sk_d, next, kEcp256, kNi2, kNr2,
                                         kSpiI2, kSpiR2);
  ASSERT_TRUE(keys.has_value()) << keys.error();
  EXPECT_EQ(hex(keys->sk_d),
            "0365a0d09f4db53ee514ba325e9317c1eba689e9d7db16fb99e73f0b6d13b4deb163be6ee343e49d3976797b5e20959a"
            "65115d3e8fb1e6c2df21f573370b68cb");
  EXPECT_EQ(hex(keys->sk_ai),
            "c1f58518328820be689c3a720bfdbb3386f193f41b7136c23e63d77e2c68423098b7d7e38a28537ab5328cbd5c1aa8f9"
            "7248c0c217e0ada2f82b890cdd73f0aa");
  EXPECT_EQ(hex(keys->sk_ar),
            "e436365e7f500280e41555364970fe704e246f87efde53abad7d8b8e02ad84f7ced880478a13c9cebdd2f52915195043"
            "de046e20006e79ade775c4b2a31c72f5");
  EXPECT_EQ(hex(keys->sk_ei), "4980c1d14599a9ca8c7c1e7254888813370a3bbbe2291282dbf3182d507d608c");
  EXPECT_EQ(hex(keys->sk_er), "53ab44489490cccb8d7b41ffdd94975c1da5c94094363dce2f328b49218f5b3a");
  EXPECT_EQ(hex(keys->sk_pi),
            "28ae2c1188acbfff6310d510d3425f3622c22c565d65b89579e78b3a2cbdf8e875089271b36670fc3fae240a3fbc08c7"
            "954d3382f7b4498bf5aecd93e3312a09");
  EXPECT_EQ(hex(keys->sk_pr),
            "6cc011fee8d5c4ccc7908d02444885108d527247b4c40c755bbea1ae1bdf1540bb1d6babb69d99eba02cfc0c71a07ccf"
            "d52f1cf6fa1f5c1e826a31862a980b0a");

  // Using the new PRF for SKEYSEED (a plausible mistake) gives different keys.
  auto wrong = derive_rekeyed_ike_sa_keys(iana::PrfId::HmacSha2_512, old->sk_d, next, kEcp256, kNi2, kNr2,
                                          kSpiI2, kSpiR2);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_FALSE(wrong->sk_d == keys->sk_d);
  // §2.18: no rekey without a fresh key exchange.
  EXPECT_FALSE(
      derive_rekeyed_ike_sa_keys(iana::PrfId::HmacSha2_384, old->sk_d, next, {}, kNi2, kNr2, kSpiI2, kSpiR2)
          .has_value());
}

TEST(KeySchedule, ChildKeymatSplitAeadWithoutPfs) {
  auto ike = derive_ike_sa_keys(ike_gcm256_sha384_x25519(), kX25519, kNi, kNr, kSpiI, kSpiR);
  ASSERT_TRUE(ike.has_value());
  const CryptoSuite esp{iana::ProtocolId::Esp,     {iana::EncrId::AesGcm16, 256}, iana::IntegId::None,
                        iana::PrfId::HmacSha2_256, iana::DhGroup::None,           false};
  auto keys = derive_child_sa_keys(iana::PrfId::HmacSha2_384, ike->sk_d, esp, {}, kNi2, kNr2);
  ASSERT_TRUE(keys.has_value()) << keys.error();
  // Key || salt per direction, initiator→responder first (§2.17).
  EXPECT_EQ(hex(keys->initiator_to_responder.encr),
            "bb15d64ca048bbd375944e2f62343248b0d8ce336206555d38a1fae014ad4ba810bcb69f");
  EXPECT_EQ(hex(keys->responder_to_initiator.encr),
            "8ccf0e0e19d290dc808b5c1f1553e195031f56df15280353c39874255594d389999a67ff");
  EXPECT_TRUE(keys->initiator_to_responder.integ.empty());
  EXPECT_TRUE(keys->responder_to_initiator.integ.empty());
}

TEST(KeySchedule, ChildKeymatSplitCbcHmacWithPfs) {
  auto ike = derive_ike_sa_keys(ike_aes128_sha256_modp2048(), kModp2048, kNi, kNr, kSpiI, kSpiR);
  ASSERT_TRUE(ike.has_value());
  const CryptoSuite esp{iana::ProtocolId::Esp,           {iana::EncrId::AesCbc, 128},
                        iana::IntegId::HmacSha2_256_128, iana::PrfId::HmacSha2_256,
                        iana::DhGroup::Curve25519,       false};
  auto keys = derive_child_sa_keys(iana::PrfId::HmacSha2_256, ike->sk_d, esp, kX25519, kNi2, kNr2);
  ASSERT_TRUE(keys.has_value()) << keys.error();
  EXPECT_EQ(hex(keys->initiator_to_responder.encr), "42d7ad00500bfc280e41e75fb2af84c5");
  EXPECT_EQ(hex(keys->initiator_to_responder.integ),
            "620195beb8cf7a99cb14ac065c38810709d9a9ab7676e3a1a0cc356bb3b83094");
  EXPECT_EQ(hex(keys->responder_to_initiator.encr), "be2b23397d23f05530b806a00557e630");
  EXPECT_EQ(hex(keys->responder_to_initiator.integ),
            "e626df59d5d2433cd32a92d058f9dec45af8eaadcfe9f95489c8d21e4abf9c4a");
}

TEST(KeySchedule, RejectsBadInputs) {
  const auto suite = ike_gcm256_sha384_x25519();
  // RFC 7296 §2.10: nonces of 16..256 octets.
  EXPECT_FALSE(derive_ike_sa_keys(suite, kX25519, Bytes(15, 1), kNr, kSpiI, kSpiR).has_value());
  EXPECT_FALSE(derive_ike_sa_keys(suite, kX25519, kNi, Bytes(257, 1), kSpiI, kSpiR).has_value());
  EXPECT_TRUE(derive_ike_sa_keys(suite, kX25519, Bytes(16, 1), Bytes(256, 1), kSpiI, kSpiR).has_value());
  EXPECT_FALSE(derive_ike_sa_keys(suite, kX25519, kNi, kNr, Bytes(4, 1), kSpiR).has_value());
  CryptoSuite esp = suite;
  esp.protocol = iana::ProtocolId::Esp;
  esp.dh = iana::DhGroup::None;
  EXPECT_FALSE(derive_ike_sa_keys(esp, kX25519, kNi, kNr, kSpiI, kSpiR).has_value());
  EXPECT_FALSE(derive_child_sa_keys(iana::PrfId::HmacSha2_256, SecretBytes(Bytes(32, 1)), suite, {}, kNi, kNr)
                   .has_value());
}

}  // namespace
}  // namespace natgate::ike
