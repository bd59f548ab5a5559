// CREATE_CHILD_SA (RFC 7296 §1.3): more CHILD SAs after IKE_AUTH, rekeying a CHILD SA (§1.3.3,
// §2.8) with and without PFS, and INVALID_KE_PAYLOAD for the PFS group.
#include <gtest/gtest.h>

#include "ike/codec/message.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using iana::ExchangeType;

void expect_crossed(const ChildSaEstablished& i, const ChildSaEstablished& r) {
  EXPECT_EQ(i.outbound_spi, r.inbound_spi);
  EXPECT_EQ(i.inbound_spi, r.outbound_spi);
  EXPECT_TRUE(i.outbound_keys.encr == r.inbound_keys.encr);
  EXPECT_TRUE(i.outbound_keys.integ == r.inbound_keys.integ);
  EXPECT_TRUE(i.inbound_keys.encr == r.outbound_keys.encr);
  EXPECT_TRUE(i.inbound_keys.integ == r.outbound_keys.integ);
  EXPECT_FALSE(i.inbound_keys.encr == i.outbound_keys.encr);
}

TEST(CreateChildSa, FurtherChildrenFollowIkeAuth) {
  SaPair pair;
  ChildConfig second{
      "voice", {esp_proposal("aes256gcm16")}, {ts("10.1.5.0/24")}, {ts("10.2.5.0/24")}, ChildMode::Tunnel};
  pair.peer_i->children.push_back(second);
  pair.peer_r().children.push_back(ChildConfig{
      "voice", {esp_proposal("aes256gcm16")}, {ts("10.2.5.0/24")}, {ts("10.1.5.0/24")}, ChildMode::Tunnel});
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.wire.size(), 6u);
  EXPECT_EQ(pair.header_of(4).exchange, ExchangeType::CreateChildSa);
  EXPECT_EQ(pair.header_of(4).message_id.value, 2u);
  auto request = pair.payloads_of(4);
  EXPECT_TRUE(find<Nonce>(request)) << "CREATE_CHILD_SA brings its own nonces (§1.3.1)";
  EXPECT_FALSE(find<KeyExchange>(request)) << "no PFS configured";

  auto children_i = pair.log_i.all<ChildSaEstablished>();
  auto children_r = pair.log_r.all<ChildSaEstablished>();
  ASSERT_EQ(children_i.size(), 2u);
  ASSERT_EQ(children_r.size(), 2u);
  EXPECT_EQ(children_i[1]->child_config, "voice");
  EXPECT_EQ(children_r[1]->child_config, "voice");
  EXPECT_EQ(children_i[1]->remote_ts, std::vector<TrafficSelector>{ts("10.2.5.0/24")});
  expect_crossed(*children_i[1], *children_r[1]);
  EXPECT_FALSE(children_i[1]->inbound_keys.encr == children_i[0]->inbound_keys.encr);
  EXPECT_EQ(pair.initiator->children().size(), 2u);
}

class ChildRekey : public ::testing::TestWithParam<const char*> {};

TEST_P(ChildRekey, NewPairReplacesTheOldOneWhichIsThenDeleted) {
  SaPair pair;
  pair.peer_i->children[0].proposals = {esp_proposal(GetParam())};
  pair.peer_r().children[0].proposals = {esp_proposal(GetParam())};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const ChildSaEstablished old_i = *pair.log_i.first<ChildSaEstablished>();
  const ChildSaEstablished old_r = *pair.log_r.first<ChildSaEstablished>();

  auto out = pair.initiator->rekey_child_sa(old_i.inbound_spi, pair.now);
  ASSERT_EQ(out.datagrams.size(), 1u);
  pair.wire.push_back({out.datagrams[0], true, true});
  auto request = pair.payloads_of(pair.wire.size() - 1);
  const Notify* rekey = find_notify(request, iana::NotifyType::RekeySa);
  ASSERT_TRUE(rekey);
  EXPECT_EQ(rekey->protocol, iana::ProtocolId::Esp);
  EXPECT_EQ(rekey->spi, (Bytes{static_cast<std::uint8_t>(old_i.inbound_spi >> 24),
                               static_cast<std::uint8_t>(old_i.inbound_spi >> 16),
                               static_cast<std::uint8_t>(old_i.inbound_spi >> 8),
                               static_cast<std::uint8_t>(old_i.inbound_spi)}));
  const bool pfs = std::string(GetParam()).find("x25519") != std::string::npos;
  EXPECT_EQ(find<KeyExchange>(request) != nullptr, pfs);

  // Deliver it through the pair so the follow-up delete runs too.
  auto answer = pair.deliver_to_responder(out.datagrams[0]);
  ASSERT_EQ(answer.datagrams.size(), 1u);
  auto done = pair.deliver_to_initiator(answer.datagrams[0]);
  // The rekey's initiator now deletes the old pair.
  ASSERT_EQ(done.datagrams.size(), 1u);
  auto ack = pair.deliver_to_responder(done.datagrams[0]);
  ASSERT_EQ(ack.datagrams.size(), 1u);
  auto closed = pair.deliver_to_initiator(ack.datagrams[0]);

  const ChildSaEstablished* new_i = nullptr;
  for (const auto& e : done.events)
    if (const auto* c = std::get_if<ChildSaEstablished>(&e)) new_i = c;
  const ChildSaEstablished* new_r = nullptr;
  for (const auto& e : answer.events)
    if (const auto* c = std::get_if<ChildSaEstablished>(&e)) new_r = c;
  ASSERT_TRUE(new_i && new_r);
  EXPECT_EQ(new_i->replaces_inbound_spi, old_i.inbound_spi);
  EXPECT_EQ(new_r->replaces_inbound_spi, old_r.inbound_spi);
  // Make-before-break: the rekey's responder sends on the new pair only once the old is deleted.
  EXPECT_FALSE(new_i->defer_outbound);
  EXPECT_TRUE(new_r->defer_outbound);
  EXPECT_NE(new_i->inbound_spi, old_i.inbound_spi);
  expect_crossed(*new_i, *new_r);
  EXPECT_FALSE(new_i->inbound_keys.encr == old_i.inbound_keys.encr);
  EXPECT_EQ(new_i->local_ts, old_i.local_ts);

  ASSERT_EQ(closed.events.size(), 1u);
  EXPECT_EQ(std::get<ChildSaDeleted>(closed.events[0]).inbound_spi, old_i.inbound_spi);
  ASSERT_EQ(ack.events.size(), 1u);
  EXPECT_EQ(std::get<ChildSaDeleted>(ack.events[0]).inbound_spi, old_r.inbound_spi);
  ASSERT_EQ(pair.initiator->children().size(), 1u);
  EXPECT_EQ(pair.initiator->children()[0].inbound_spi, new_i->inbound_spi);
  ASSERT_EQ(pair.responder->children().size(), 1u);
  EXPECT_EQ(pair.responder->children()[0].inbound_spi, new_r->inbound_spi);
}

INSTANTIATE_TEST_SUITE_P(Esp, ChildRekey,
                         ::testing::Values("aes256gcm16", "aes256gcm16-x25519", "aes256-sha256-x25519"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(ChildRekeyPfs, InvalidKeNamesTheResponderGroupAndTheRetrySucceeds) {
  SaPair pair;
  pair.peer_i->children[0].proposals = {esp_proposal("aes256gcm16-x25519-ecp256")};
  pair.peer_r().children[0].proposals = {esp_proposal("aes256gcm16-ecp256")};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const auto old_i = *pair.log_i.first<ChildSaEstablished>();
  const std::size_t before = pair.wire.size();
  pair.absorb_for_test(pair.initiator->rekey_child_sa(old_i.inbound_spi, pair.now), true);
  pair.run();
  // Request (x25519) → INVALID_KE_PAYLOAD(ecp256) → request (ecp256) → answer → delete → answer.
  ASSERT_EQ(pair.wire.size(), before + 6);
  auto refusal = pair.payloads_of(before + 1);
  const Notify* ke = find_notify(refusal, iana::NotifyType::InvalidKePayload);
  ASSERT_TRUE(ke);
  EXPECT_EQ(ke->data, (Bytes{0x00, 19}));
  auto retry = pair.payloads_of(before + 2);
  ASSERT_TRUE(find<KeyExchange>(retry));
  EXPECT_EQ(find<KeyExchange>(retry)->group, iana::DhGroup::Ecp256);
  auto children_i = pair.log_i.all<ChildSaEstablished>();
  auto children_r = pair.log_r.all<ChildSaEstablished>();
  ASSERT_EQ(children_i.size(), 2u);
  ASSERT_EQ(children_r.size(), 2u);
  expect_crossed(*children_i[1], *children_r[1]);
  EXPECT_EQ(children_i[1]->esp.dh, iana::DhGroup::Ecp256);
  EXPECT_EQ(pair.initiator->children().size(), 1u);
}

}  // namespace
}  // namespace natgate::ike
