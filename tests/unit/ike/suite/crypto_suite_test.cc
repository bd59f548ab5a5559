// Negotiated suites: sizes from the RFCs, and RFC 7296 §2.7 selection.
#include "ike/suite/crypto_suite.h"

#include <gtest/gtest.h>

namespace natgate::ike {
namespace {

using iana::ProtocolId;

ProposalSpec spec(ProtocolId protocol, std::string_view text) {
  auto s = parse_proposal(protocol, text);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error());
  return s ? *s : ProposalSpec{};
}

CryptoSuite pick(ProtocolId protocol, std::string_view ours, std::string_view theirs) {
  auto suite = select_suite(spec(protocol, ours), spec(protocol, theirs));
  EXPECT_TRUE(suite.has_value()) << ours << " vs " << theirs;
  return suite.value_or(CryptoSuite{});
}

TEST(CryptoSuite, SizesForAesGcm256Ike) {
  CryptoSuite s = pick(ProtocolId::Ike, "aes256gcm16-prfsha384-x25519", "aes256gcm16-prfsha384-x25519");
  EXPECT_TRUE(s.validate().has_value());
  EXPECT_TRUE(s.is_aead());
  EXPECT_EQ(s.encr_key_size(), 32u);
  EXPECT_EQ(s.salt_size(), 4u);  // RFC 5282 §7.1
  EXPECT_EQ(s.encr_keymat_size(), 36u);
  EXPECT_EQ(s.integ_key_size(), 0u);
  EXPECT_EQ(s.icv_size(), 16u);
  EXPECT_EQ(s.iv_size(), 8u);
  EXPECT_EQ(s.block_size(), 1u);
  EXPECT_EQ(s.prf_size(), 48u);
  EXPECT_EQ(to_string(s), "aes256gcm16-prfsha384-x25519");
}

TEST(CryptoSuite, SizesForAesCbcHmacAndChaCha) {
  CryptoSuite cbc = pick(ProtocolId::Ike, "aes128-sha256-modp2048", "aes128-sha256-modp2048");
  EXPECT_EQ(cbc.encr_key_size(), 16u);
  EXPECT_EQ(cbc.salt_size(), 0u);
  EXPECT_EQ(cbc.integ_key_size(), 32u);  // RFC 4868 §2.1.1
  EXPECT_EQ(cbc.icv_size(), 16u);
  EXPECT_EQ(cbc.iv_size(), 16u);
  EXPECT_EQ(cbc.block_size(), 16u);
  EXPECT_EQ(cbc.prf_size(), 32u);
  EXPECT_EQ(to_string(cbc), "aes128-sha256-modp2048");  // the implied PRF is not printed

  CryptoSuite sha1 = pick(ProtocolId::Esp, "aes192-sha1", "aes192-sha1");
  EXPECT_EQ(sha1.encr_key_size(), 24u);
  EXPECT_EQ(sha1.integ_key_size(), 20u);
  EXPECT_EQ(sha1.icv_size(), 12u);  // RFC 2404: 96 bits
  EXPECT_EQ(to_string(sha1), "aes192-sha1-noesn");

  CryptoSuite chacha = pick(ProtocolId::Esp, "chacha20poly1305-esn", "chacha20poly1305-esn");
  EXPECT_EQ(chacha.encr_key_size(), 32u);
  EXPECT_EQ(chacha.salt_size(), 4u);  // RFC 7634 §2
  EXPECT_EQ(chacha.iv_size(), 8u);
  EXPECT_EQ(chacha.icv_size(), 16u);
  EXPECT_TRUE(chacha.esn);
}

TEST(CryptoSuite, SelectionPrefersOurOrderAndNeedsEveryType) {
  CryptoSuite s = pick(ProtocolId::Ike, "aes256gcm16-aes128gcm16-prfsha384-prfsha256-x25519-ecp256",
                       "aes128gcm16-aes256gcm16-prfsha256-prfsha384-ecp256-x25519");
  EXPECT_EQ(s.encr, (EncrAlgorithm{iana::EncrId::AesGcm16, 256}));
  EXPECT_EQ(s.prf, iana::PrfId::HmacSha2_384);
  EXPECT_EQ(s.dh, iana::DhGroup::Curve25519);
  // Same cipher, different key length: no match (the Key Length attribute is part of the transform).
  EXPECT_FALSE(select_suite(spec(ProtocolId::Ike, "aes128-sha256-x25519"),
                            spec(ProtocolId::Ike, "aes256-sha256-x25519")));
  EXPECT_FALSE(select_suite(spec(ProtocolId::Ike, "aes128-sha256-x25519"),
                            spec(ProtocolId::Ike, "aes128-sha256-ecp256")));
  EXPECT_FALSE(
      select_suite(spec(ProtocolId::Ike, "aes128-sha256-x25519"), spec(ProtocolId::Esp, "aes128-sha256")));
}

TEST(CryptoSuite, EspPfsAndEsnSelection) {
  // Neither side wants PFS.
  EXPECT_EQ(pick(ProtocolId::Esp, "aes256gcm16", "aes256gcm16").dh, iana::DhGroup::None);
  // We require PFS, the peer offers none: no match. With "none" listed we accept no PFS.
  EXPECT_FALSE(
      select_suite(spec(ProtocolId::Esp, "aes256gcm16-x25519"), spec(ProtocolId::Esp, "aes256gcm16")));
  EXPECT_EQ(pick(ProtocolId::Esp, "aes256gcm16-x25519-none", "aes256gcm16").dh, iana::DhGroup::None);
  EXPECT_EQ(pick(ProtocolId::Esp, "aes256gcm16-x25519", "aes256gcm16-ecp256-x25519").dh,
            iana::DhGroup::Curve25519);
  // ESN must be agreed.
  EXPECT_FALSE(select_suite(spec(ProtocolId::Esp, "aes256gcm16-esn"), spec(ProtocolId::Esp, "aes256gcm16")));
  EXPECT_TRUE(pick(ProtocolId::Esp, "aes256gcm16-esn-noesn", "aes256gcm16-esn").esn);
}

TEST(CryptoSuite, ListSelectionReportsPeersProposalIndex) {
  auto ours = parse_proposals(ProtocolId::Ike, "aes256gcm16-prfsha384-x25519,aes128-sha256-modp2048");
  auto theirs = parse_proposals(ProtocolId::Ike, "aes192-sha1-modp3072,aes128-sha256-modp2048");
  ASSERT_TRUE(ours && theirs);
  auto sel = select_suite(*ours, *theirs);
  ASSERT_TRUE(sel.has_value());
  EXPECT_EQ(sel->their_index, 1u);
  EXPECT_EQ(to_string(sel->suite), "aes128-sha256-modp2048");
  auto none = parse_proposals(ProtocolId::Ike, "aes192-sha1-modp3072");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(select_suite(*ours, *none).has_value());
}

TEST(CryptoSuite, ValidateRejectsInconsistentSuites) {
  CryptoSuite s = pick(ProtocolId::Ike, "aes256gcm16-prfsha384-x25519", "aes256gcm16-prfsha384-x25519");
  CryptoSuite with_integ = s;
  with_integ.integ = iana::IntegId::HmacSha2_256_128;
  EXPECT_FALSE(with_integ.validate().has_value());
  CryptoSuite cbc_no_integ = s;
  cbc_no_integ.encr = {iana::EncrId::AesCbc, 128};
  EXPECT_FALSE(cbc_no_integ.validate().has_value());
  CryptoSuite bad_bits = s;
  bad_bits.encr.key_bits = 64;
  EXPECT_FALSE(bad_bits.validate().has_value());
  CryptoSuite ctr = s;
  ctr.encr = {iana::EncrId::AesCtr, 128};
  EXPECT_FALSE(ctr.validate().has_value());
  CryptoSuite no_dh = s;
  no_dh.dh = iana::DhGroup::None;
  EXPECT_FALSE(no_dh.validate().has_value());
  CryptoSuite md5 = s;
  md5.prf = iana::PrfId::HmacMd5;
  EXPECT_FALSE(md5.validate().has_value());
}

}  // namespace
}  // namespace natgate::ike
