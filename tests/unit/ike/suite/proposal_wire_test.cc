// ProposalSpec/CryptoSuite <-> SA payload Proposal (RFC 7296 §3.3, §2.7).
#include "ike/suite/proposal_wire.h"

#include <gtest/gtest.h>

namespace natgate::ike {
namespace {

using iana::ProtocolId;
using iana::TransformType;

ProposalSpec spec(ProtocolId protocol, std::string_view text) {
  auto s = parse_proposal(protocol, text);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error());
  return s ? *s : ProposalSpec{};
}

Transform raw(TransformType type, std::uint16_t id, std::vector<TransformAttribute> attrs = {}) {
  return {type, id, std::move(attrs)};
}
TransformAttribute key_length(std::uint16_t bits) { return {iana::kAttrKeyLength, bits}; }

TEST(ProposalWire, OfferCarriesEveryTransformWithKeyLengths) {
  Proposal p =
      to_proposal(spec(ProtocolId::Ike, "aes256gcm16-chacha20poly1305-prfsha384-x25519-ecp256"), 1, {});
  EXPECT_EQ(p.number, 1);
  EXPECT_EQ(p.protocol, ProtocolId::Ike);
  EXPECT_TRUE(p.spi.empty());
  const std::vector<Transform> expected = {
      raw(TransformType::Encr, 20, {key_length(256)}),
      raw(TransformType::Encr, 28),  // RFC 7634 §3: no Key Length attribute
      raw(TransformType::Prf, 6),
      raw(TransformType::Dh, 31),
      raw(TransformType::Dh, 19),
  };
  EXPECT_EQ(p.transforms, expected);

  const Bytes spi = hex_bytes("c0ffee01");
  Proposal esp = to_proposal(spec(ProtocolId::Esp, "aes128-sha256-x25519-none-esn-noesn"), 2, spi);
  EXPECT_EQ(esp.spi, spi);
  const std::vector<Transform> esp_expected = {
      raw(TransformType::Encr, 12, {key_length(128)}),
      raw(TransformType::Integ, 12),
      raw(TransformType::Dh, 31),
      raw(TransformType::Dh, 0),  // optional PFS
      raw(TransformType::Esn, 1),
      raw(TransformType::Esn, 0),
  };
  EXPECT_EQ(esp.transforms, esp_expected);
}

TEST(ProposalWire, OfferReadsBackAsTheSameLists) {
  for (auto [protocol, text] : {std::pair{ProtocolId::Ike, "aes128-sha256-sha1-modp2048-ecp384"},
                                std::pair{ProtocolId::Ike, "aes256gcm16-prfsha512-x448"},
                                std::pair{ProtocolId::Esp, "aes256gcm16-chacha20poly1305-esn"}}) {
    ProposalSpec original = spec(protocol, text);
    auto back = from_proposal(to_proposal(original, 1, {}));
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(back->encryption, original.encryption) << text;
    EXPECT_EQ(back->integrity, original.integrity) << text;
    EXPECT_EQ(back->prf, original.prf) << text;
    EXPECT_EQ(back->dh, original.dh) << text;
    EXPECT_EQ(back->esn, original.esn) << text;
  }
}

TEST(ProposalWire, PeerTransformsNatgateCannotUseAreLeftOut) {
  Proposal p;
  p.protocol = ProtocolId::Ike;
  p.transforms = {
      raw(TransformType::Encr, 3),                      // 3DES
      raw(TransformType::Encr, 20),                     // AES-GCM without Key Length
      raw(TransformType::Encr, 28, {key_length(256)}),  // ChaCha20 with one
      raw(TransformType::Encr, 12,
          {key_length(128), TransformAttribute{17, std::uint16_t{1}}}),  // unknown attribute
      raw(TransformType::Encr, 12, {key_length(256)}),                   // usable
      raw(TransformType::Integ, 1),                                      // HMAC-MD5
      raw(TransformType::Integ, 12),                                     // usable
      raw(TransformType::Prf, 4),                                        // AES128-XCBC
      raw(TransformType::Prf, 5),                                        // usable
      raw(TransformType::Dh, 5),                                         // MODP-1536
      raw(TransformType::Dh, 19),                                        // usable
  };
  auto s = from_proposal(p);
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(s->encryption, std::vector{(EncrAlgorithm{iana::EncrId::AesCbc, 256})});
  EXPECT_EQ(s->integrity, std::vector{iana::IntegId::HmacSha2_256_128});
  EXPECT_EQ(s->prf, std::vector{iana::PrfId::HmacSha2_256});
  EXPECT_EQ(s->dh, std::vector{iana::DhGroup::Ecp256});
  // And the result is selectable against a matching configuration.
  EXPECT_TRUE(select_suite(spec(ProtocolId::Ike, "aes256-sha256-ecp256"), *s).has_value());
}

TEST(ProposalWire, UnknownTransformTypeOrProtocolIsAnError) {
  Proposal p;
  p.number = 3;
  p.protocol = ProtocolId::Ike;
  p.transforms = {raw(TransformType::Encr, 12, {key_length(128)}), raw(static_cast<TransformType>(6), 1)};
  auto s = from_proposal(p);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().find("unknown transform type 6"), std::string::npos) << s.error();
  p.transforms.pop_back();
  p.protocol = ProtocolId::Ah;
  EXPECT_FALSE(from_proposal(p).has_value());
}

TEST(ProposalWire, ResponderAnswerIsAcceptedByTheInitiator) {
  auto offered = parse_proposals(ProtocolId::Ike, "aes256gcm16-prfsha384-x25519,aes128-sha256-modp2048");
  auto peer = parse_proposals(ProtocolId::Ike, "aes128-sha256-modp2048");
  ASSERT_TRUE(offered && peer);
  // The responder selects from what it got and answers with one transform per type.
  std::vector<ProposalSpec> received;
  for (std::size_t i = 0; i < offered->size(); ++i) {
    auto r = from_proposal(to_proposal((*offered)[i], static_cast<std::uint8_t>(i + 1), {}));
    ASSERT_TRUE(r.has_value());
    received.push_back(*r);
  }
  auto chosen = select_suite(*peer, received);
  ASSERT_TRUE(chosen.has_value());
  Proposal reply = to_proposal(chosen->suite, static_cast<std::uint8_t>(chosen->their_index + 1), {});
  EXPECT_EQ(reply.number, 2);
  auto accepted = accepted_suite(reply, *offered);
  ASSERT_TRUE(accepted.has_value()) << accepted.error();
  EXPECT_EQ(*accepted, chosen->suite);
  EXPECT_EQ(to_string(*accepted), "aes128-sha256-modp2048");
}

TEST(ProposalWire, InitiatorRejectsAnswersItDidNotOffer) {
  auto offered = parse_proposals(ProtocolId::Ike, "aes256gcm16-prfsha384-x25519");
  ASSERT_TRUE(offered.has_value());
  CryptoSuite good{ProtocolId::Ike,           {iana::EncrId::AesGcm16, 256}, iana::IntegId::None,
                   iana::PrfId::HmacSha2_384, iana::DhGroup::Curve25519,     false};
  EXPECT_TRUE(accepted_suite(to_proposal(good, 1, {}), *offered).has_value());

  CryptoSuite other_group = good;
  other_group.dh = iana::DhGroup::Ecp256;
  auto r = accepted_suite(to_proposal(other_group, 1, {}), *offered);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("does not match anything we offered"), std::string::npos) << r.error();

  Proposal two_encr = to_proposal(good, 1, {});
  two_encr.transforms.push_back(raw(TransformType::Encr, 20, {key_length(128)}));
  r = accepted_suite(two_encr, *offered);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("2 ENCR transforms"), std::string::npos) << r.error();

  Proposal with_integ = to_proposal(good, 1, {});
  with_integ.transforms.push_back(raw(TransformType::Integ, 12));
  EXPECT_FALSE(accepted_suite(with_integ, *offered).has_value());

  Proposal with_unknown = to_proposal(good, 1, {});
  with_unknown.transforms.push_back(raw(TransformType::Integ, 1));
  EXPECT_FALSE(accepted_suite(with_unknown, *offered).has_value());
}

TEST(ProposalWire, EspPfsInTheAnswer) {
  auto pfs_optional = parse_proposals(ProtocolId::Esp, "aes256gcm16-x25519-none");
  auto no_pfs = parse_proposals(ProtocolId::Esp, "aes256gcm16");
  ASSERT_TRUE(pfs_optional && no_pfs);
  CryptoSuite plain{ProtocolId::Esp,           {iana::EncrId::AesGcm16, 256}, iana::IntegId::None,
                    iana::PrfId::HmacSha2_256, iana::DhGroup::None,           false};
  CryptoSuite with_pfs = plain;
  with_pfs.dh = iana::DhGroup::Curve25519;
  EXPECT_TRUE(accepted_suite(to_proposal(plain, 1, hex_bytes("01020304")), *pfs_optional).has_value());
  EXPECT_EQ(accepted_suite(to_proposal(with_pfs, 1, hex_bytes("01020304")), *pfs_optional)->dh,
            iana::DhGroup::Curve25519);
  // A responder may not add PFS we did not offer.
  EXPECT_FALSE(accepted_suite(to_proposal(with_pfs, 1, hex_bytes("01020304")), *no_pfs).has_value());
}

}  // namespace
}  // namespace natgate::ike
