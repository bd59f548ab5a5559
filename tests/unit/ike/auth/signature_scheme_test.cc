// RFC 7427 AlgorithmIdentifiers and the SIGNATURE_HASH_ALGORITHMS notify.
#include "ike/auth/signature_scheme.h"

#include <gtest/gtest.h>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "tests/unit/ike/codec/strongswan_exchange.h"

namespace natgate::ike {
namespace {

using H = iana::HashAlgorithm;
using S = SignatureScheme;

// Typed from RFC 7427 Appendix A (A.1.2, A.1.3, A.1.4, A.3.1, A.3.2, A.3.3, A.4.3) and RFC 8420 §2.
TEST(SignatureScheme, AlgorithmIdentifiersAreTheRfc7427AppendixBytes) {
  EXPECT_EQ(to_hex(algorithm_identifier(S::RsaPkcs1Sha256)), "300d06092a864886f70d01010b0500");
  EXPECT_EQ(to_hex(algorithm_identifier(S::RsaPkcs1Sha384)), "300d06092a864886f70d01010c0500");
  EXPECT_EQ(to_hex(algorithm_identifier(S::RsaPkcs1Sha512)), "300d06092a864886f70d01010d0500");
  EXPECT_EQ(to_hex(algorithm_identifier(S::EcdsaSha256)), "300a06082a8648ce3d040302");
  EXPECT_EQ(to_hex(algorithm_identifier(S::EcdsaSha384)), "300a06082a8648ce3d040303");
  EXPECT_EQ(to_hex(algorithm_identifier(S::EcdsaSha512)), "300a06082a8648ce3d040304");
  EXPECT_EQ(to_hex(algorithm_identifier(S::RsaPssSha256)),
            "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108"
            "300d06096086480165030402010500a203020120");
  EXPECT_EQ(algorithm_identifier(S::RsaPssSha256).size(), 67u);  // "Length = 67" in A.4.3
  EXPECT_EQ(to_hex(algorithm_identifier(S::Ed25519)), "300506032b6570");
  EXPECT_TRUE(algorithm_identifier(S::RsaPkcs1Sha1).empty());
}

TEST(SignatureScheme, PssIdentifiersForLargerHashesChangeHashAndSaltOnly) {
  const std::string s384 = to_hex(algorithm_identifier(S::RsaPssSha384));
  EXPECT_NE(s384.find("608648016503040202"), std::string::npos);  // id-sha384
  EXPECT_EQ(s384.substr(s384.size() - 10), "a203020130");         // saltLength 48
  const std::string s512 = to_hex(algorithm_identifier(S::RsaPssSha512));
  EXPECT_EQ(s512.substr(s512.size() - 10), "a203020140");  // saltLength 64
}

TEST(SignatureScheme, AlgorithmIdentifierRoundTripsAndUnknownIsRejected) {
  for (S s : {S::RsaPkcs1Sha256, S::RsaPkcs1Sha384, S::RsaPkcs1Sha512, S::RsaPssSha256, S::RsaPssSha384,
              S::RsaPssSha512, S::EcdsaSha256, S::EcdsaSha384, S::EcdsaSha512, S::Ed25519}) {
    EXPECT_EQ(scheme_for_algorithm_identifier(algorithm_identifier(s)), s) << to_string(s);
  }
  // sha1WithRSAEncryption (A.1.1) is not accepted in method 14, nor is a truncated identifier.
  EXPECT_FALSE(scheme_for_algorithm_identifier(hex_bytes("300d06092a864886f70d0101050500")));
  EXPECT_FALSE(scheme_for_algorithm_identifier(hex_bytes("300a06082a8648ce3d0403")));
  EXPECT_FALSE(scheme_for_algorithm_identifier({}));
}

TEST(SignatureHashAlgorithms, NotifyDataIsTwoOctetIds) {
  const Notify n = signature_hash_algorithms_notify();
  EXPECT_EQ(n.type, iana::NotifyType::SignatureHashAlgorithms);
  EXPECT_EQ(n.protocol, iana::ProtocolId::None);
  EXPECT_TRUE(n.spi.empty());
  EXPECT_EQ(to_hex(n.data), "0002000300040005");
}

TEST(SignatureHashAlgorithms, MatchesWhatStrongswanSends) {
  auto m = decode_message(hex_bytes(testing::strongswan::kIkeSaInitRequest));
  ASSERT_TRUE(m);
  const Notify* n = find_notify(*m, iana::NotifyType::SignatureHashAlgorithms);
  ASSERT_NE(n, nullptr);
  auto hashes = parse_signature_hash_algorithms(n->data);
  ASSERT_TRUE(hashes) << hashes.error();
  EXPECT_EQ(*hashes, supported_hash_algorithms());
  EXPECT_EQ(signature_hash_algorithms_notify().data, n->data);
}

TEST(SignatureHashAlgorithms, ParseKeepsUnknownAndRejectsOddLength) {
  auto h = parse_signature_hash_algorithms(hex_bytes("00020009"));
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (std::vector<H>{H::Sha2_256, static_cast<H>(9)}));
  EXPECT_TRUE(parse_signature_hash_algorithms({})->empty());
  auto bad = parse_signature_hash_algorithms(hex_bytes("000200"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("odd length 3"), std::string::npos);
}

TEST(ChooseSignatureScheme, FollowsKeyAndPeerHashes) {
  const std::vector<H> all = supported_hash_algorithms();
  EXPECT_EQ(choose_signature_scheme(KeyType::Rsa, 2048, all).value(), S::RsaPkcs1Sha256);
  EXPECT_EQ(choose_signature_scheme(KeyType::Rsa, 2048, all, true).value(), S::RsaPssSha256);
  EXPECT_EQ(choose_signature_scheme(KeyType::Ecdsa, 256, all).value(), S::EcdsaSha256);
  EXPECT_EQ(choose_signature_scheme(KeyType::Ecdsa, 384, all).value(), S::EcdsaSha384);
  EXPECT_EQ(choose_signature_scheme(KeyType::Ecdsa, 521, all).value(), S::EcdsaSha512);
  EXPECT_EQ(choose_signature_scheme(KeyType::Ed25519, 256, all).value(), S::Ed25519);
  // Only what the peer announced may be used (RFC 7427 §4).
  const std::vector<H> only384 = {H::Sha2_384};
  EXPECT_EQ(choose_signature_scheme(KeyType::Rsa, 2048, only384).value(), S::RsaPkcs1Sha384);
  EXPECT_EQ(choose_signature_scheme(KeyType::Ecdsa, 256, only384).value(), S::EcdsaSha384);
  EXPECT_FALSE(choose_signature_scheme(KeyType::Ed25519, 256, only384));
  const std::vector<H> sha1 = {H::Sha1};
  auto none = choose_signature_scheme(KeyType::Ecdsa, 256, sha1);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("ECDSA P-256"), std::string::npos);
}

}  // namespace
}  // namespace natgate::ike
