// strongSwan proposal strings: parsing, completion rules (proposal.c check_proposal) and
// printing back.
#include "ike/suite/proposal_spec.h"

#include <gtest/gtest.h>

namespace natgate::ike {
namespace {

using iana::ProtocolId;

ProposalSpec parse_ok(ProtocolId protocol, std::string_view text) {
  auto spec = parse_proposal(protocol, text);
  EXPECT_TRUE(spec.has_value()) << text << ": " << (spec ? "" : spec.error());
  return spec ? *spec : ProposalSpec{};
}

std::string parse_error(ProtocolId protocol, std::string_view text) {
  auto spec = parse_proposal(protocol, text);
  EXPECT_FALSE(spec.has_value()) << text << " should not parse";
  return spec ? "" : spec.error();
}

TEST(ProposalSpec, IkeStringsPrintBackExactly) {
  for (const char* text :
       {"aes256gcm16-prfsha384-x25519", "aes128-sha256-modp2048", "chacha20poly1305-prfsha256-ecp256",
        "aes256gcm16-prfsha384-ecp384", "aes256-sha256-ecp521", "aes128-sha1-modp3072",
        "aes256-sha512-prfsha256-x448", "aes128gcm16-aes256gcm16-prfsha256-prfsha512-x25519-ecp256",
        "aes192-sha384-curve448"}) {
    SCOPED_TRACE(text);
    ProposalSpec spec = parse_ok(ProtocolId::Ike, text);
    std::string printed = to_string(spec);
    // Aliases print canonically; everything else round-trips byte for byte.
    if (std::string_view(text) == "aes192-sha384-curve448") {
      EXPECT_EQ(printed, "aes192-sha384-x448");
    } else {
      EXPECT_EQ(printed, text);
    }
    EXPECT_EQ(parse_ok(ProtocolId::Ike, printed), spec);
  }
}

TEST(ProposalSpec, EspStringsPrintBackExactly) {
  for (const char* text : {"aes256gcm16", "aes256gcm16-esn", "aes128-sha256", "chacha20poly1305",
                           "aes256-sha256", "aes128gcm16-modp2048", "aes256gcm16-x25519-none",
                           "aes256gcm16-esn-noesn", "aes128-sha256-sha1-noesn"}) {
    SCOPED_TRACE(text);
    ProposalSpec spec = parse_ok(ProtocolId::Esp, text);
    EXPECT_EQ(to_string(spec), text);
  }
}

TEST(ProposalSpec, IkePrfFollowsIntegrityWhenNotNamed) {
  ProposalSpec spec = parse_ok(ProtocolId::Ike, "aes128-sha256-sha1-modp2048");
  EXPECT_EQ(spec.prf, (std::vector{iana::PrfId::HmacSha2_256, iana::PrfId::HmacSha1}));
  EXPECT_TRUE(spec.prf_implied);
  EXPECT_EQ(spec.integrity, (std::vector{iana::IntegId::HmacSha2_256_128, iana::IntegId::HmacSha1_96}));
  EXPECT_EQ(spec.dh, std::vector{iana::DhGroup::Modp2048});
  EXPECT_EQ(spec.encryption, std::vector{(EncrAlgorithm{iana::EncrId::AesCbc, 128})});
  // A named PRF is kept as the only PRF.
  ProposalSpec named = parse_ok(ProtocolId::Ike, "aes128-sha256-prfsha512-modp2048");
  EXPECT_EQ(named.prf, std::vector{iana::PrfId::HmacSha2_512});
  EXPECT_FALSE(named.prf_implied);
}

TEST(ProposalSpec, AeadIkeProposalNeedsExplicitPrf) {
  EXPECT_NE(parse_error(ProtocolId::Ike, "aes256gcm16-x25519").find("must name a PRF"), std::string::npos);
  // Integrity next to an AEAD is dropped (strongSwan does the same), so it cannot supply the PRF.
  EXPECT_NE(parse_error(ProtocolId::Ike, "aes256gcm16-sha256-x25519").find("must name a PRF"),
            std::string::npos);
  ProposalSpec spec = parse_ok(ProtocolId::Ike, "aes256gcm16-sha256-prfsha256-x25519");
  EXPECT_TRUE(spec.integrity.empty());
  EXPECT_EQ(to_string(spec), "aes256gcm16-prfsha256-x25519");
}

TEST(ProposalSpec, IkeNeedsKeyExchangeAndDropsNone) {
  EXPECT_NE(parse_error(ProtocolId::Ike, "aes128-sha256").find("key exchange method"), std::string::npos);
  EXPECT_NE(parse_error(ProtocolId::Ike, "aes128-sha256-none").find("key exchange method"),
            std::string::npos);
  ProposalSpec spec = parse_ok(ProtocolId::Ike, "aes128-sha256-modpnone-ecp256");
  EXPECT_EQ(spec.dh, std::vector{iana::DhGroup::Ecp256});
}

TEST(ProposalSpec, EspDefaultsToNoEsnAndDropsPrf) {
  ProposalSpec spec = parse_ok(ProtocolId::Esp, "aes256gcm16");
  EXPECT_EQ(spec.esn, std::vector{iana::EsnId::NoEsn});
  EXPECT_TRUE(spec.esn_implied);
  EXPECT_TRUE(spec.dh.empty());
  ProposalSpec esn = parse_ok(ProtocolId::Esp, "aes256gcm16-esn");
  EXPECT_EQ(esn.esn, std::vector{iana::EsnId::Esn});
  EXPECT_FALSE(esn.esn_implied);
  ProposalSpec prf = parse_ok(ProtocolId::Esp, "aes128-sha256-prfsha256");
  EXPECT_TRUE(prf.prf.empty());
  EXPECT_EQ(to_string(prf), "aes128-sha256");
}

TEST(ProposalSpec, AliasesMapToTheSameTransforms) {
  EXPECT_EQ(parse_ok(ProtocolId::Esp, "aes-sha"), parse_ok(ProtocolId::Esp, "aes128-sha1"));
  EXPECT_EQ(parse_ok(ProtocolId::Esp, "aes256gcm"), parse_ok(ProtocolId::Esp, "aes256gcm16"));
  EXPECT_EQ(parse_ok(ProtocolId::Esp, "aes256gcm128"), parse_ok(ProtocolId::Esp, "aes256gcm16"));
  EXPECT_EQ(parse_ok(ProtocolId::Esp, "aes128-sha2_256"), parse_ok(ProtocolId::Esp, "aes128-sha256"));
  EXPECT_EQ(parse_ok(ProtocolId::Ike, "aes128-sha256-curve25519"),
            parse_ok(ProtocolId::Ike, "aes128-sha256-x25519"));
  EXPECT_EQ(parse_ok(ProtocolId::Ike, " AES128-SHA256-X25519 "),
            parse_ok(ProtocolId::Ike, "aes128-sha256-x25519"));
  ProposalSpec gcm = parse_ok(ProtocolId::Esp, "aes128gcm16");
  EXPECT_EQ(gcm.encryption, std::vector{(EncrAlgorithm{iana::EncrId::AesGcm16, 128})});
  ProposalSpec chacha = parse_ok(ProtocolId::Esp, "chacha20poly1305");
  EXPECT_EQ(chacha.encryption, std::vector{(EncrAlgorithm{iana::EncrId::ChaCha20Poly1305, 0})});
}

TEST(ProposalSpec, UnknownKeywordErrorNamesIt) {
  std::string error = parse_error(ProtocolId::Ike, "aes512-sha256-x25519");
  EXPECT_NE(error.find("unknown algorithm 'aes512'"), std::string::npos) << error;
  EXPECT_NE(error.find("'aes512-sha256-x25519'"), std::string::npos) << error;
  // strongSwan knows these, natgate does not implement them: same clear error.
  for (const char* text : {"3des-sha256-modp2048", "aes128-md5-modp2048", "aes128ctr-sha256-x25519",
                           "aes128-sha256-modp1536", "aes128ccm16-prfsha256-x25519"}) {
    EXPECT_NE(parse_error(ProtocolId::Ike, text).find("unknown algorithm"), std::string::npos) << text;
  }
  EXPECT_NE(parse_error(ProtocolId::Esp, "aes128--sha256").find("empty algorithm keyword"),
            std::string::npos);
  EXPECT_NE(parse_error(ProtocolId::Esp, "").find("empty algorithm keyword"), std::string::npos);
}

TEST(ProposalSpec, StructuralErrors) {
  EXPECT_NE(parse_error(ProtocolId::Esp, "sha256").find("no encryption algorithm"), std::string::npos);
  EXPECT_NE(parse_error(ProtocolId::Esp, "aes256gcm16-aes128-sha256").find("AEAD and classic"),
            std::string::npos);
  EXPECT_NE(parse_error(ProtocolId::Ike, "aes128-prfsha256-x25519").find("integrity algorithm"),
            std::string::npos);
  EXPECT_NE(parse_error(ProtocolId::Esp, "aes128").find("integrity algorithm"), std::string::npos);
  EXPECT_NE(parse_error(ProtocolId::Ike, "aes256gcm16-prfsha256-x25519-esn").find("ESP proposals only"),
            std::string::npos);
}

TEST(ProposalSpec, ListsSplitOnCommas) {
  auto list = parse_proposals(ProtocolId::Ike, "aes256gcm16-prfsha384-x25519,aes128-sha256-modp2048");
  ASSERT_TRUE(list.has_value()) << list.error();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(to_string((*list)[0]), "aes256gcm16-prfsha384-x25519");
  EXPECT_EQ(to_string((*list)[1]), "aes128-sha256-modp2048");
  auto bad = parse_proposals(ProtocolId::Esp, "aes256gcm16,aes128-foo");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("'foo'"), std::string::npos);
}

}  // namespace
}  // namespace natgate::ike
