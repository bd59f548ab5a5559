// Rekeying the IKE SA (RFC 7296 §1.3.2, §2.8, §2.18) and rekey collisions (§2.8.1, §2.25): two
// IkeSa in memory, the new SA taken over by the pair the way the daemon does.
#include <gtest/gtest.h>

#include "ike/codec/message.h"
#include "ike/exchange/message_protection.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using iana::ExchangeType;
using iana::NotifyType;

void expect_same_keys(const IkeSaKeys& a, const IkeSaKeys& b) {
  EXPECT_TRUE(a.sk_d == b.sk_d);
  EXPECT_TRUE(a.sk_ei == b.sk_ei);
  EXPECT_TRUE(a.sk_er == b.sk_er);
  EXPECT_TRUE(a.sk_ai == b.sk_ai);
  EXPECT_TRUE(a.sk_ar == b.sk_ar);
}

struct Before {
  IkeSpi spi_i;
  IkeSpi spi_r;
  SecretBytes sk_d;
  std::uint32_t child_in_i = 0;
  std::uint32_t child_in_r = 0;
};

Before snapshot(const SaPair& pair) {
  return {pair.initiator->spi_i(), pair.initiator->spi_r(), pair.initiator->key_material_for_testing()->sk_d,
          pair.initiator->children().at(0).inbound_spi, pair.responder->children().at(0).inbound_spi};
}

// The new SA on both sides: same SPIs and keys, new ones, CHILD SAs carried over, old SAs gone.
void expect_rekeyed(const SaPair& pair, const Before& old, bool initiator_side_rekeyed) {
  ASSERT_TRUE(pair.both_established());
  const IkeSa& i = *pair.initiator;
  const IkeSa& r = *pair.responder;
  EXPECT_EQ(i.spi_i(), r.spi_i());
  EXPECT_EQ(i.spi_r(), r.spi_r());
  EXPECT_NE(i.spi_i(), old.spi_i);
  EXPECT_NE(i.spi_r(), old.spi_r);
  // §2.18: the rekey's initiator is the new SA's original initiator.
  EXPECT_EQ(i.is_initiator(), initiator_side_rekeyed);
  EXPECT_EQ(r.is_initiator(), !initiator_side_rekeyed);
  EXPECT_EQ((initiator_side_rekeyed ? i : r).spi_i(), (initiator_side_rekeyed ? i : r).local_spi());
  ASSERT_TRUE(i.key_material_for_testing() && r.key_material_for_testing());
  expect_same_keys(*i.key_material_for_testing(), *r.key_material_for_testing());
  EXPECT_FALSE(i.key_material_for_testing()->sk_d == old.sk_d);

  // §2.8: the CHILD SAs belong to the new SA now, untouched.
  ASSERT_EQ(i.children().size(), 1u);
  ASSERT_EQ(r.children().size(), 1u);
  EXPECT_EQ(i.children()[0].inbound_spi, old.child_in_i);
  EXPECT_EQ(r.children()[0].inbound_spi, old.child_in_r);
  EXPECT_TRUE(pair.log_i.all<ChildSaDeleted>().empty());
  EXPECT_TRUE(pair.log_r.all<ChildSaDeleted>().empty());

  // The old SA was deleted by the rekey's initiator, quietly on both sides.
  for (const auto* retired : {&pair.retired_i, &pair.retired_r}) {
    ASSERT_EQ(retired->size(), 1u);
    EXPECT_EQ(retired->front()->state(), SaState::Deleted);
    EXPECT_TRUE(retired->front()->children().empty());
  }
  for (const SideLog* log : {&pair.log_i, &pair.log_r}) {
    auto deleted = log->all<IkeSaDeleted>();
    ASSERT_EQ(deleted.size(), 1u);
    EXPECT_EQ(deleted[0]->reason, DeleteReason::Rekeyed);
    EXPECT_EQ(deleted[0]->spi_i, old.spi_i);
    auto rekeyed = log->all<IkeSaRekeyed>();
    ASSERT_EQ(rekeyed.size(), 1u);
    EXPECT_EQ(rekeyed[0]->new_spi_i, i.spi_i());
    EXPECT_EQ(rekeyed[0]->new_spi_r, i.spi_r());
  }
  EXPECT_EQ(pair.log_i.first<IkeSaRekeyed>()->we_initiated, initiator_side_rekeyed);
  EXPECT_EQ(pair.log_r.first<IkeSaRekeyed>()->we_initiated, !initiator_side_rekeyed);
}

// After a rekey the new SA works: DPD (Message ID 0 again, §2.18) and a CHILD SA rekey.
void expect_new_sa_works(SaPair& pair) {
  const std::size_t before = pair.wire.size();
  pair.advance(std::chrono::seconds(31));
  ASSERT_GE(pair.wire.size(), before + 2) << "a liveness check on the new SA";
  const IkeHeader request = pair.header_of(before);
  EXPECT_EQ(request.exchange, ExchangeType::Informational);
  EXPECT_EQ(request.spi_i, pair.initiator->spi_i());
  EXPECT_EQ(request.message_id.value, 0u);
  EXPECT_TRUE(pair.header_of(before + 1).response());
  EXPECT_TRUE(pair.both_established());

  const std::uint32_t child = pair.initiator->children().at(0).inbound_spi;
  pair.absorb_for_test(pair.initiator->rekey_child_sa(child, pair.now), true);
  pair.run();
  ASSERT_EQ(pair.initiator->children().size(), 1u);
  ASSERT_EQ(pair.responder->children().size(), 1u);
  EXPECT_NE(pair.initiator->children()[0].inbound_spi, child);
  EXPECT_EQ(pair.initiator->children()[0].inbound_spi, pair.responder->children()[0].outbound_spi);
  EXPECT_TRUE(pair.both_established());
}

SaPair& with_dpd(SaPair& pair) {
  pair.ike_i->dpd_interval = std::chrono::seconds(30);
  pair.configs_r.ike->dpd_interval = std::chrono::seconds(30);
  return pair;
}

TEST(IkeRekey, RequestCarriesIkeProposalWithNewSpiNonceAndKe) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  ASSERT_EQ(pair.header_of(pair.wire.size() - 1).exchange, ExchangeType::CreateChildSa);
  auto request = pair.payloads_of(pair.wire.size() - 1);
  const auto* sa = find<SecurityAssociation>(request);
  ASSERT_TRUE(sa);
  ASSERT_FALSE(sa->proposals.empty());
  EXPECT_EQ(sa->proposals[0].protocol, iana::ProtocolId::Ike);
  EXPECT_EQ(sa->proposals[0].spi.size(), 8u) << "§1.3.2: the sender's new IKE SPI";
  EXPECT_TRUE(find<Nonce>(request));
  ASSERT_TRUE(find<KeyExchange>(request));
  EXPECT_EQ(find<KeyExchange>(request)->group, iana::DhGroup::Curve25519);
  EXPECT_FALSE(find_notify(request, NotifyType::RekeySa)) << "REKEY_SA is for CHILD SAs";
  EXPECT_TRUE(pair.initiator->rekeying());
}

TEST(IkeRekey, InitiatorRekeysBothDeriveTheSameNewKeysAndChildrenMove) {
  SaPair pair;
  with_dpd(pair).start_and_run();
  ASSERT_TRUE(pair.both_established());
  const Before old = snapshot(pair);
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  expect_rekeyed(pair, old, true);
  EXPECT_FALSE(pair.initiator->rekeying());
  expect_new_sa_works(pair);
}

TEST(IkeRekey, ResponderRekeysAndBecomesTheNewSasInitiator) {
  SaPair pair;
  with_dpd(pair).start_and_run();
  ASSERT_TRUE(pair.both_established());
  const Before old = snapshot(pair);
  pair.absorb_for_test(pair.responder->rekey_ike_sa(pair.now), false);
  pair.run();
  expect_rekeyed(pair, old, false);
  expect_new_sa_works(pair);
}

TEST(IkeRekey, SecondRekeyChainsFromTheFirst) {
  SaPair pair;
  pair.start_and_run();
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  ASSERT_TRUE(pair.both_established());
  const SecretBytes sk_d = pair.initiator->key_material_for_testing()->sk_d;
  pair.absorb_for_test(pair.responder->rekey_ike_sa(pair.now), false);
  pair.run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_FALSE(pair.initiator->key_material_for_testing()->sk_d == sk_d);
  expect_same_keys(*pair.initiator->key_material_for_testing(), *pair.responder->key_material_for_testing());
  EXPECT_EQ(pair.retired_i.size(), 2u);
  EXPECT_EQ(pair.initiator->children().size(), 1u);
}

TEST(IkeRekey, InvalidKePayloadRetriesWithTheResponderGroup) {
  SaPair pair;
  pair.ike_i->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519-ecp256")};
  pair.configs_r.ike->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519-ecp256")};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  // The responder now only takes ecp256 (a changed config): the rekey is asked for it.
  pair.configs_r.ike->proposals = {ike_proposal("aes256gcm16-prfsha256-ecp256")};
  const Before old = snapshot(pair);
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  expect_rekeyed(pair, old, true);
  EXPECT_EQ(pair.initiator->suite()->dh, iana::DhGroup::Ecp256);
}

TEST(IkeRekey, RefusedWhileOurCreateChildSaIsOutThenRetrySucceeds) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const std::uint32_t child = pair.initiator->children().at(0).inbound_spi;
  // The initiator rekeys its CHILD SA while the responder rekeys the IKE SA.
  pair.absorb_for_test(pair.initiator->rekey_child_sa(child, pair.now), true);
  pair.absorb_for_test(pair.responder->rekey_ike_sa(pair.now), false);
  const std::size_t ike_rekey_request = pair.wire.size() - 1;
  pair.run();
  // §2.25: TEMPORARY_FAILURE for the IKE rekey; the CHILD rekey went through.
  bool refused = false;
  for (std::size_t k = ike_rekey_request + 1; k < pair.wire.size(); ++k) {
    if (!pair.wire[k].from_initiator || !pair.header_of(k).response()) continue;
    if (pair.header_of(k).exchange != ExchangeType::CreateChildSa) continue;
    refused = find_notify(pair.payloads_of(k), NotifyType::TemporaryFailure) != nullptr;
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(pair.log_r.all<IkeSaRekeyed>().empty());
  EXPECT_FALSE(pair.responder->rekeying());
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.initiator->children().size(), 1u);
  EXPECT_NE(pair.initiator->children()[0].inbound_spi, child);

  const Before old = snapshot(pair);
  pair.log_i.events.clear();
  pair.log_r.events.clear();
  pair.absorb_for_test(pair.responder->rekey_ike_sa(pair.now), false);
  pair.run();
  expect_rekeyed(pair, old, false);
}

TEST(IkeRekey, SimultaneousRekeysBothBackOffAndTheSaStays) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.absorb_for_test(pair.responder->rekey_ike_sa(pair.now), false);
  pair.run();
  EXPECT_TRUE(pair.log_i.all<IkeSaRekeyed>().empty());
  EXPECT_TRUE(pair.log_r.all<IkeSaRekeyed>().empty());
  EXPECT_TRUE(pair.both_established());
  EXPECT_FALSE(pair.initiator->rekeying());
  EXPECT_FALSE(pair.responder->rekeying());
  // One side tries again (the daemon's jitter makes that the usual case) and succeeds.
  const Before old = snapshot(pair);
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  expect_rekeyed(pair, old, true);
}

TEST(IkeRekey, PeerDeletingTheOldSaIsNotNeededForItToEnd) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  // The initiator's Delete of the old SA is lost: the responder's old SA ends by itself.
  pair.deliver_if = [](const WireRecord& r) {
    return !(r.from_initiator && !r.datagram.bytes.empty() &&
             static_cast<ExchangeType>(r.datagram.bytes[18]) == ExchangeType::Informational);
  };
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  ASSERT_EQ(pair.retired_r.size(), 1u);
  EXPECT_NE(pair.retired_r[0]->state(), SaState::Deleted);
  pair.advance(std::chrono::minutes(5));
  // The retired SA's timer is not the pair's; fire it as the daemon would.
  pair.absorb_for_test(pair.retired_r[0]->on_timer(TimerKind::RekeyedOld, pair.now), false);
  EXPECT_EQ(pair.retired_r[0]->state(), SaState::Deleted);
  auto deleted = pair.log_r.all<IkeSaDeleted>();
  ASSERT_FALSE(deleted.empty());
  EXPECT_EQ(deleted.back()->reason, DeleteReason::Rekeyed);
  EXPECT_TRUE(pair.log_r.all<ChildSaDeleted>().empty());
  EXPECT_EQ(pair.responder->children().size(), 1u);
}

TEST(ChildRekeyCollision, LowestNonceLosesAndOnePairSurvives) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    SaPair pair;
    pair.random_i = crypto::DeterministicRandom{100 + seed};  // never the same stream on both sides
    pair.random_r = crypto::DeterministicRandom{200 + seed};
    pair.start_and_run();
    ASSERT_TRUE(pair.both_established());
    const std::uint32_t child_i = pair.initiator->children().at(0).inbound_spi;
    const std::uint32_t child_r = pair.responder->children().at(0).inbound_spi;
    pair.absorb_for_test(pair.initiator->rekey_child_sa(child_i, pair.now), true);
    pair.absorb_for_test(pair.responder->rekey_child_sa(child_r, pair.now), false);
    pair.run();
    ASSERT_TRUE(pair.both_established());
    // §2.8.1: both exchanges made a pair; the one with the lowest nonce and the old one are gone.
    EXPECT_EQ(pair.log_i.all<ChildSaEstablished>().size(), 3u);
    ASSERT_EQ(pair.initiator->children().size(), 1u) << "seed " << seed;
    ASSERT_EQ(pair.responder->children().size(), 1u) << "seed " << seed;
    const auto& ci = pair.initiator->children()[0];
    const auto& cr = pair.responder->children()[0];
    EXPECT_NE(ci.inbound_spi, child_i);
    EXPECT_EQ(ci.inbound_spi, cr.outbound_spi);
    EXPECT_EQ(ci.outbound_spi, cr.inbound_spi);
  }
}

TEST(CreateChildSa, ResponderHalfOfARejectedChildSaIsDeleted) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const std::uint32_t child = pair.initiator->children().at(0).inbound_spi;
  auto out = pair.initiator->rekey_child_sa(child, pair.now);
  ASSERT_EQ(out.datagrams.size(), 1u);
  auto answer = pair.deliver_to_responder(out.datagrams[0]);
  ASSERT_EQ(answer.datagrams.size(), 1u);
  pair.absorb_for_test(Output{{}, {}, std::move(answer.events), {}}, false);
  // A responder that widens TSi (RFC 7296 §2.9 forbids it): the initiator rejects the pair the
  // responder has already created, so it deletes that half (§2.9).
  pair.wire.push_back({answer.datagrams[0], false, false});
  auto payloads = pair.payloads_of(pair.wire.size() - 1);
  for (auto& p : payloads)
    if (auto* tsi = std::get_if<TsInitiator>(&p)) tsi->selectors = {ts("10.0.0.0/8")};
  const IkeHeader h = pair.header_of(pair.wire.size() - 1);
  const IkeSaKeys* keys = pair.initiator->key_material_for_testing();
  auto protector = MessageProtector::create(*pair.initiator->suite(), keys->sk_er, keys->sk_ar);
  ASSERT_TRUE(protector);
  auto sealed = seal_message(h, payloads, *protector, pair.random_r);
  ASSERT_TRUE(sealed);
  Datagram forged = answer.datagrams[0];
  forged.bytes = *sealed;
  const std::size_t before = pair.wire.size();
  pair.absorb_for_test(pair.deliver_to_initiator(forged), true);
  pair.run();

  const ChildSaFailed* failed = pair.log_i.first<ChildSaFailed>();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->notify, NotifyType::TsUnacceptable);
  ASSERT_EQ(pair.wire.size(), before + 2) << "Delete, answer";
  EXPECT_EQ(pair.header_of(before).exchange, ExchangeType::Informational);
  const auto informational = pair.payloads_of(before);
  const auto* del = find<Delete>(informational);
  ASSERT_TRUE(del);
  ASSERT_EQ(del->spis.size(), 1u);
  EXPECT_EQ(del->spis[0], (Bytes{static_cast<std::uint8_t>(failed->inbound_spi >> 24),
                                 static_cast<std::uint8_t>(failed->inbound_spi >> 16),
                                 static_cast<std::uint8_t>(failed->inbound_spi >> 8),
                                 static_cast<std::uint8_t>(failed->inbound_spi)}));
  // The responder installed its half, then deleted it again; the old pair stays on both sides.
  EXPECT_EQ(pair.log_r.all<ChildSaEstablished>().size(), 2u);
  EXPECT_EQ(pair.log_r.all<ChildSaDeleted>().size(), 1u);
  ASSERT_EQ(pair.responder->children().size(), 1u);
  ASSERT_EQ(pair.initiator->children().size(), 1u);
  EXPECT_EQ(pair.initiator->children()[0].inbound_spi, child);
  EXPECT_EQ(pair.responder->children()[0].outbound_spi, child);
}

}  // namespace
}  // namespace natgate::ike
