// KeyExchangeStep and the nonce rules on their own (RFC 7296 §1.2, §1.3, §2.10, §3.4); the
// exchanges that use them are covered end to end by negotiation_test, create_child_test and
// ike_rekey_test.
#include "ike/exchange/key_exchange_step.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/random.h"

namespace natgate::ike {
namespace {

using iana::DhGroup;

std::vector<ProposalSpec> offering(std::vector<DhGroup> groups) {
  ProposalSpec spec;
  spec.dh = std::move(groups);
  return {spec};
}

Notify invalid_ke(Bytes data) { return Notify::make(iana::NotifyType::InvalidKePayload, std::move(data)); }

TEST(NonceLength, Rfc7296Bounds) {
  EXPECT_FALSE(nonce_length_ok(0));
  EXPECT_FALSE(nonce_length_ok(15));
  EXPECT_TRUE(nonce_length_ok(16));
  EXPECT_TRUE(nonce_length_ok(256));
  EXPECT_FALSE(nonce_length_ok(257));
  EXPECT_FALSE(nonce_ok(nullptr));
  Nonce short_nonce{Bytes(15, 0xab)};
  EXPECT_FALSE(nonce_ok(&short_nonce));
  Nonce good{Bytes(32, 0xab)};
  EXPECT_TRUE(nonce_ok(&good));
}

TEST(InvalidKeData, GroupInTwoOctetsBigEndian) {
  EXPECT_EQ(invalid_ke_data(DhGroup::Ecp256), (Bytes{0x00, 19}));
  EXPECT_EQ(invalid_ke_data(DhGroup::Modp2048), (Bytes{0x00, 14}));
}

TEST(KeyExchangeStep, PayloadCarriesTheGroupAndAPublicValueOfItsLength) {
  crypto::DeterministicRandom random(1);
  KeyExchangeStep step;
  step.use_group(DhGroup::Curve25519);
  ASSERT_TRUE(step.prepare(random));
  const auto payload = step.payload();
  EXPECT_EQ(payload.group, DhGroup::Curve25519);
  EXPECT_EQ(payload.data.size(), crypto::DhKeyPair::public_value_size(DhGroup::Curve25519));
  // A resend (COOKIE) keeps the key pair, so the KE payload does not change.
  ASSERT_TRUE(step.prepare(random));
  EXPECT_EQ(step.payload(), payload);
}

TEST(KeyExchangeStep, InvalidKeRetrySwitchesToThePeersGroupAndANewKey) {
  crypto::DeterministicRandom random(2);
  KeyExchangeStep step;
  step.use_group(DhGroup::Curve25519);
  ASSERT_TRUE(step.prepare(random));
  const auto first = step.payload();

  const auto verdict =
      step.judge_invalid_ke(invalid_ke({0x00, 19}), offering({DhGroup::Curve25519, DhGroup::Ecp256}));
  ASSERT_EQ(verdict.kind, InvalidKeVerdict::Kind::Retry);
  EXPECT_EQ(verdict.wanted, DhGroup::Ecp256);
  step.use_group(verdict.wanted);
  ASSERT_TRUE(step.prepare(random));
  const auto second = step.payload();
  EXPECT_EQ(second.group, DhGroup::Ecp256);
  EXPECT_EQ(second.data.size(), 64U);  // RFC 5903 §7: x || y
  EXPECT_NE(second.data, first.data);
}

TEST(KeyExchangeStep, InvalidKeForAGroupWeDidNotOfferIsRefused) {
  KeyExchangeStep step;
  step.use_group(DhGroup::Curve25519);
  const auto verdict = step.judge_invalid_ke(invalid_ke({0x00, 19}), offering({DhGroup::Curve25519}));
  EXPECT_EQ(verdict.kind, InvalidKeVerdict::Kind::Unoffered);
  EXPECT_EQ(verdict.wanted, DhGroup::Ecp256);
}

TEST(KeyExchangeStep, InvalidKeForTheGroupWeAlreadyUsedIsRefused) {
  // Retrying with the same group would loop (§1.2).
  KeyExchangeStep step;
  step.use_group(DhGroup::Curve25519);
  const auto verdict = step.judge_invalid_ke(invalid_ke({0x00, 31}), offering({DhGroup::Curve25519}));
  EXPECT_EQ(verdict.kind, InvalidKeVerdict::Kind::Unoffered);
}

TEST(KeyExchangeStep, InvalidKeWithoutATwoOctetGroupIsMalformed) {
  KeyExchangeStep step;
  step.use_group(DhGroup::Curve25519);
  const auto offered = offering({DhGroup::Curve25519, DhGroup::Ecp256});
  EXPECT_EQ(step.judge_invalid_ke(invalid_ke({}), offered).kind, InvalidKeVerdict::Kind::Malformed);
  EXPECT_EQ(step.judge_invalid_ke(invalid_ke({19}), offered).kind, InvalidKeVerdict::Kind::Malformed);
  EXPECT_EQ(step.judge_invalid_ke(invalid_ke({0, 0, 19}), offered).kind, InvalidKeVerdict::Kind::Malformed);
}

TEST(KeyExchangeStep, ResponderRequiresTheChosenGroup) {
  KeyExchange theirs{DhGroup::Curve25519, Bytes(32, 9)};
  EXPECT_TRUE(KeyExchangeStep::request_matches(&theirs, DhGroup::Curve25519));
  EXPECT_FALSE(KeyExchangeStep::request_matches(&theirs, DhGroup::Ecp256));
  EXPECT_FALSE(KeyExchangeStep::request_matches(nullptr, DhGroup::Curve25519));
}

TEST(KeyExchangeStep, InitiatorRejectsAnAnswerInAnotherGroup) {
  crypto::DeterministicRandom random(3);
  KeyExchangeStep step;
  step.use_group(DhGroup::Curve25519);
  KeyExchange answer{DhGroup::Curve25519, Bytes(32, 9)};
  EXPECT_FALSE(step.answer_matches(&answer, DhGroup::Curve25519)) << "no key pair of ours yet";
  ASSERT_TRUE(step.prepare(random));
  EXPECT_TRUE(step.answer_matches(&answer, DhGroup::Curve25519));
  EXPECT_FALSE(step.answer_matches(&answer, DhGroup::Ecp256)) << "suite chose another group";
  KeyExchange other{DhGroup::Ecp256, Bytes(64, 9)};
  EXPECT_FALSE(step.answer_matches(&other, DhGroup::Curve25519)) << "KE payload for another group";
  EXPECT_FALSE(step.answer_matches(nullptr, DhGroup::Curve25519));
}

TEST(KeyExchangeStep, BothSidesAgreeOnTheSharedSecret) {
  crypto::DeterministicRandom random(4);
  KeyExchangeStep initiator;
  initiator.use_group(DhGroup::Ecp256);
  ASSERT_TRUE(initiator.prepare(random));
  KeyExchangeStep responder;
  ASSERT_TRUE(responder.respond_in(DhGroup::Ecp256, random));
  EXPECT_EQ(responder.payload().group, DhGroup::Ecp256);
  auto a = initiator.shared_secret(responder.payload().data);
  auto b = responder.shared_secret(initiator.payload().data);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->size(), 32U);  // RFC 5903 §7: the x coordinate
  EXPECT_TRUE(std::equal(a->view().begin(), a->view().end(), b->view().begin(), b->view().end()));
  responder.forget_key();
  EXPECT_FALSE(responder.has_key());
  EXPECT_FALSE(responder.shared_secret(initiator.payload().data));
}

TEST(KeyExchangeStep, PeerValueOfTheWrongLengthIsRefused) {
  // §3.4: the key exchange data has the group's length; one octet more or less is no value.
  crypto::DeterministicRandom random(5);
  KeyExchangeStep step;
  ASSERT_TRUE(step.respond_in(DhGroup::Curve25519, random));
  KeyExchangeStep peer;
  ASSERT_TRUE(peer.respond_in(DhGroup::Curve25519, random));
  Bytes value = peer.payload().data;
  ASSERT_TRUE(step.shared_secret(value));
  Bytes shorter(value.begin(), value.end() - 1);
  EXPECT_FALSE(step.shared_secret(shorter));
  value.push_back(0);
  EXPECT_FALSE(step.shared_secret(value));
  crypto::DeterministicRandom modp_random(6);
  KeyExchangeStep modp;
  ASSERT_TRUE(modp.respond_in(DhGroup::Modp2048, modp_random));
  EXPECT_FALSE(modp.shared_secret(Bytes(255, 0x42)));
}

}  // namespace
}  // namespace natgate::ike
