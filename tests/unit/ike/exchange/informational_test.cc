// INFORMATIONAL exchanges (RFC 7296 §1.4): deleting the IKE SA, deleting a CHILD SA (both
// directions of the pair go), and the empty liveness check.
#include <gtest/gtest.h>

#include <algorithm>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

std::uint32_t spi_of(const Bytes& b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

class Informational : public ::testing::Test {
 protected:
  void SetUp() override {
    pair.start_and_run();
    ASSERT_TRUE(pair.both_established());
  }
  SaPair pair;
};

TEST_F(Informational, DeletingTheIkeSaEndsBothSidesAndTheirChildren) {
  pair.run();
  auto out = pair.initiator->delete_ike_sa(pair.now);
  ASSERT_EQ(out.datagrams.size(), 1u);
  EXPECT_EQ(pair.initiator->state(), SaState::Deleting);
  auto answer = pair.deliver_to_responder(out.datagrams[0]);
  ASSERT_EQ(answer.datagrams.size(), 1u) << "the responder acknowledges before it goes";
  EXPECT_EQ(pair.responder->state(), SaState::Deleted);
  auto done = pair.deliver_to_initiator(answer.datagrams[0]);
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);

  auto gone_r = std::find_if(answer.events.begin(), answer.events.end(),
                             [](const Event& e) { return std::holds_alternative<IkeSaDeleted>(e); });
  ASSERT_NE(gone_r, answer.events.end());
  EXPECT_EQ(std::get<IkeSaDeleted>(*gone_r).reason, DeleteReason::PeerDeleted);
  EXPECT_TRUE(std::get<IkeSaDeleted>(*gone_r).was_established);
  // The CHILD SA is reported deleted before the IKE SA, on both sides.
  ASSERT_EQ(answer.events.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ChildSaDeleted>(answer.events[0]));
  ASSERT_EQ(done.events.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ChildSaDeleted>(done.events[0]));
  EXPECT_EQ(std::get<IkeSaDeleted>(done.events[1]).reason, DeleteReason::LocalRequest);
}

TEST_F(Informational, DeletingAChildSaRemovesBothHalvesOfThePair) {
  const auto child_i = *pair.log_i.first<ChildSaEstablished>();
  auto out = pair.initiator->delete_child_sa(child_i.inbound_spi, pair.now);
  ASSERT_EQ(out.datagrams.size(), 1u);
  auto answer = pair.deliver_to_responder(out.datagrams[0]);
  ASSERT_EQ(answer.datagrams.size(), 1u);
  auto done = pair.deliver_to_initiator(answer.datagrams[0]);

  // The request names our inbound SPI, the answer the responder's inbound SPI (§1.4.1).
  pair.wire.push_back({out.datagrams[0], true, true});
  pair.wire.push_back({answer.datagrams[0], false, true});
  const auto request_payloads = pair.payloads_of(pair.wire.size() - 2);
  const auto answer_payloads = pair.payloads_of(pair.wire.size() - 1);
  const auto* asked = find<Delete>(request_payloads);
  const auto* answered = find<Delete>(answer_payloads);
  ASSERT_TRUE(asked && answered);
  ASSERT_EQ(asked->spis.size(), 1u);
  ASSERT_EQ(answered->spis.size(), 1u);
  EXPECT_EQ(spi_of(asked->spis[0]), child_i.inbound_spi);
  EXPECT_EQ(spi_of(answered->spis[0]), child_i.outbound_spi);

  ASSERT_EQ(answer.events.size(), 1u);
  const auto& deleted_r = std::get<ChildSaDeleted>(answer.events[0]);
  EXPECT_TRUE(deleted_r.by_peer);
  EXPECT_EQ(deleted_r.inbound_spi, child_i.outbound_spi);
  ASSERT_EQ(done.events.size(), 1u);
  EXPECT_EQ(std::get<ChildSaDeleted>(done.events[0]).inbound_spi, child_i.inbound_spi);
  EXPECT_TRUE(pair.initiator->children().empty());
  EXPECT_TRUE(pair.responder->children().empty());
  EXPECT_TRUE(pair.both_established()) << "the IKE SA stays";
}

TEST_F(Informational, TheResponderMayDeleteToo) {
  auto out = pair.responder->delete_ike_sa(pair.now);
  ASSERT_EQ(out.datagrams.size(), 1u);
  auto answer = pair.deliver_to_initiator(out.datagrams[0]);
  ASSERT_EQ(answer.datagrams.size(), 1u);
  pair.deliver_to_responder(answer.datagrams[0]);
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  EXPECT_EQ(pair.responder->state(), SaState::Deleted);
  // The responder's first request uses its own message ID counter, starting at 0 (§2.2).
  EXPECT_EQ(decode_header(out.datagrams[0].bytes)->message_id.value, 0u);
}

TEST_F(Informational, DeletingAnUnknownChildSendsNothing) {
  auto out = pair.initiator->delete_child_sa(0x12345678, pair.now);
  EXPECT_TRUE(out.datagrams.empty());
}

}  // namespace
}  // namespace natgate::ike
