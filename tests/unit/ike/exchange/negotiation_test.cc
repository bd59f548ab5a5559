// What happens when the peers do not agree: authentication (RFC 7296 §2.15, §2.21.2), proposals
// (§2.7), key exchange groups (§1.2), cookies (§2.6), traffic selectors (§2.9) and transport
// mode (§1.3.1).
#include <gtest/gtest.h>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using iana::NotifyType;

bool has_notify(const std::vector<Payload>& payloads, NotifyType type) {
  return find_notify(payloads, type) != nullptr;
}

TEST(Authentication, WrongPskFailsOnBothSidesWithoutAnySa) {
  SaPair pair;
  pair.peer_r().psk = secret("a different secret");
  pair.start_and_run();

  ASSERT_EQ(pair.wire.size(), 4u);
  // The responder's IKE_AUTH answer is AUTHENTICATION_FAILED and nothing else (§2.21.2).
  auto answer = pair.payloads_of(3);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_TRUE(has_notify(answer, NotifyType::AuthenticationFailed));

  const auto* fail_r = pair.log_r.first<AuthenticationFailed>();
  ASSERT_TRUE(fail_r);
  EXPECT_FALSE(fail_r->by_peer);
  EXPECT_EQ(fail_r->peer_id, Identity::fqdn("moon.lab"));
  const auto* fail_i = pair.log_i.first<AuthenticationFailed>();
  ASSERT_TRUE(fail_i);
  EXPECT_TRUE(fail_i->by_peer);

  for (const SideLog* log : {&pair.log_i, &pair.log_r}) {
    EXPECT_TRUE(log->all<IkeSaEstablished>().empty());
    EXPECT_TRUE(log->all<ChildSaEstablished>().empty());
    const auto* gone = log->first<IkeSaDeleted>();
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->reason, DeleteReason::AuthenticationFailed);
    EXPECT_FALSE(gone->was_established);
  }
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  EXPECT_EQ(pair.responder->state(), SaState::Deleted);
  EXPECT_EQ(pair.dispatcher->half_open().total(), 0u) << "a failed SA frees its half-open slot";
}

TEST(Authentication, InitiatorRejectsAnUnexpectedResponderIdentity) {
  SaPair pair;
  pair.peer_r().local_id = Identity::fqdn("mallory.lab");
  pair.start_and_run();

  // The responder believed itself established; the initiator refuses its identity and says so
  // in an INFORMATIONAL of its own (§2.21.2), which ends the responder's SA too.
  const auto* fail_i = pair.log_i.first<AuthenticationFailed>();
  ASSERT_TRUE(fail_i);
  EXPECT_FALSE(fail_i->by_peer);
  EXPECT_EQ(fail_i->peer_id, Identity::fqdn("mallory.lab"));
  ASSERT_EQ(pair.wire.size(), 6u);
  EXPECT_EQ(pair.header_of(4).exchange, iana::ExchangeType::Informational);
  EXPECT_EQ(pair.header_of(4).message_id.value, 2u);
  EXPECT_TRUE(has_notify(pair.payloads_of(4), NotifyType::AuthenticationFailed));
  EXPECT_TRUE(pair.header_of(5).response()) << "the responder acknowledges the notification";
  const auto* fail_r = pair.log_r.first<AuthenticationFailed>();
  ASSERT_TRUE(fail_r);
  EXPECT_TRUE(fail_r->by_peer);
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  EXPECT_EQ(pair.responder->state(), SaState::Deleted);
  EXPECT_TRUE(pair.log_i.all<IkeSaEstablished>().empty());
  // The responder's CHILD SA goes with its IKE SA.
  EXPECT_EQ(pair.log_r.all<ChildSaDeleted>().size(), pair.log_r.all<ChildSaEstablished>().size());
}

TEST(Authentication, UnknownInitiatorIdentityIsRefused) {
  SaPair pair;
  pair.peer_i->local_id = Identity::email("eve@lab");
  pair.start_and_run();
  EXPECT_TRUE(has_notify(pair.payloads_of(3), NotifyType::AuthenticationFailed));
  EXPECT_EQ(pair.configs_r.asked_for, std::vector<Identity>{Identity::email("eve@lab")});
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  EXPECT_EQ(pair.responder->state(), SaState::Deleted);
}

TEST(Proposals, NoCommonIkeProposalGetsNoProposalChosen) {
  SaPair pair;
  pair.ike_i->proposals = {ike_proposal("aes128-sha1-modp2048")};
  pair.start_and_run();

  ASSERT_EQ(pair.wire.size(), 2u);
  auto answer = pair.payloads_of(1);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_TRUE(has_notify(answer, NotifyType::NoProposalChosen));
  EXPECT_TRUE(pair.header_of(1).spi_r.is_zero()) << "stateless refusal (§2.6)";
  EXPECT_EQ(pair.responder, nullptr) << "the dispatcher keeps no SA for a refused request";
  EXPECT_EQ(pair.dispatcher->counters().refused, 1u);
  // The refusal still reports why, though no SA stays: the daemon logs it.
  const auto* refused = pair.log_r.first<NegotiationFailed>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->exchange, iana::ExchangeType::IkeSaInit);
  EXPECT_EQ(refused->notify, NotifyType::NoProposalChosen);
  EXPECT_FALSE(refused->reported_by_peer);

  const auto* failed = pair.log_i.first<NegotiationFailed>();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->notify, NotifyType::NoProposalChosen);
  EXPECT_TRUE(failed->reported_by_peer);
  ASSERT_TRUE(pair.log_i.first<IkeSaDeleted>());
  EXPECT_EQ(pair.log_i.first<IkeSaDeleted>()->reason, DeleteReason::NegotiationFailed);
  EXPECT_EQ(pair.log_i.timers.count(TimerKind::Retransmit), 0u);
}

TEST(Proposals, InvalidKePayloadNamesTheResponderGroupAndTheRetrySucceeds) {
  SaPair pair;
  // The initiator's KE is for its first group, x25519; the responder accepts only ecp256.
  pair.ike_i->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519-ecp256")};
  pair.configs_r.ike->proposals = {ike_proposal("aes256gcm16-prfsha256-ecp256")};
  pair.start_and_run();

  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.wire.size(), 6u);
  auto refusal = pair.payloads_of(1);
  const Notify* ke = find_notify(refusal, NotifyType::InvalidKePayload);
  ASSERT_TRUE(ke);
  EXPECT_EQ(ke->data, (Bytes{0x00, 19}));  // RFC 7296 §3.10.1: the group the responder wants
  const auto* refused = pair.log_r.first<NegotiationFailed>();
  ASSERT_TRUE(refused) << "the stateless refusal reports why";
  EXPECT_EQ(refused->notify, NotifyType::InvalidKePayload);
  EXPECT_FALSE(refused->reported_by_peer);
  // The retry: same SPIi, message ID 0 again, KE for ecp256.
  EXPECT_EQ(pair.header_of(2).spi_i, pair.header_of(0).spi_i);
  EXPECT_EQ(pair.header_of(2).message_id.value, 0u);
  auto retry = pair.payloads_of(2);
  ASSERT_TRUE(find<KeyExchange>(retry));
  EXPECT_EQ(find<KeyExchange>(retry)->group, iana::DhGroup::Ecp256);
  EXPECT_EQ(pair.initiator->suite()->dh, iana::DhGroup::Ecp256);
}

TEST(Proposals, InvalidKeForAGroupWeNeverOfferedFails) {
  SaPair pair;
  pair.ike_i->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519")};
  pair.start();
  // A forged refusal naming a group we did not offer must not make us switch.
  Message refusal;
  refusal.header.spi_i = pair.initiator->spi_i();
  refusal.header.exchange = iana::ExchangeType::IkeSaInit;
  refusal.header.set_response(true);
  refusal.payloads.push_back(Notify::make(NotifyType::InvalidKePayload, Bytes{0x00, 14}));
  auto out =
      pair.deliver_to_initiator(Datagram{encode_message(refusal), pair.responder_addr, pair.initiator_addr});
  EXPECT_EQ(pair.initiator->state(), SaState::Deleted);
  EXPECT_TRUE(out.datagrams.empty());
}

TEST(Proposals, NoCommonEspProposalLeavesTheIkeSaUp) {
  SaPair pair;
  pair.peer_i->children[0].proposals = {esp_proposal("aes128-sha1")};
  pair.start_and_run();

  ASSERT_TRUE(pair.both_established()) << "RFC 7296 §1.2: a CHILD SA failure does not fail IKE_AUTH";
  EXPECT_TRUE(has_notify(pair.payloads_of(3), NotifyType::NoProposalChosen));
  const auto* failed_i = pair.log_i.first<ChildSaFailed>();
  ASSERT_TRUE(failed_i);
  EXPECT_EQ(failed_i->notify, NotifyType::NoProposalChosen);
  EXPECT_TRUE(failed_i->reported_by_peer);
  EXPECT_NE(failed_i->inbound_spi, 0u) << "the allocated SPI is handed back for release";
  EXPECT_TRUE(pair.log_i.all<ChildSaEstablished>().empty());
  EXPECT_TRUE(pair.log_r.all<ChildSaEstablished>().empty());
  EXPECT_TRUE(pair.initiator->children().empty());
}

TEST(Cookies, InitiatorEchoesTheCookieAndSucceeds) {
  SaPair pair;
  pair.dispatcher_config.admission.cookie_threshold_per_source = 0;  // everyone must prove their address
  pair.start_and_run();

  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.wire.size(), 6u);
  auto demand = pair.payloads_of(1);
  ASSERT_EQ(demand.size(), 1u);
  const Notify* cookie = find_notify(demand, NotifyType::Cookie);
  ASSERT_TRUE(cookie);
  EXPECT_TRUE(pair.header_of(1).spi_r.is_zero());
  // §2.6: the retried request starts with the cookie and repeats everything else.
  auto retry = pair.payloads_of(2);
  ASSERT_FALSE(retry.empty());
  const auto* first = std::get_if<Notify>(&retry.front());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, NotifyType::Cookie);
  EXPECT_EQ(first->data, cookie->data);
  auto original = pair.payloads_of(0);
  EXPECT_EQ(std::vector<Payload>(retry.begin() + 1, retry.end()), original);
  EXPECT_EQ(pair.dispatcher->counters().cookies_sent, 1u);
  EXPECT_EQ(pair.dispatcher->counters().created, 1u);
}

TEST(Cookies, AForgedCookieIsAnsweredWithAFreshOne) {
  SaPair pair;
  pair.dispatcher_config.admission.cookie_threshold_per_source = 0;
  pair.start();
  // Replace the initiator's first request with one carrying a made-up cookie.
  auto first = decode_message(pair.wire[0].datagram.bytes);
  ASSERT_TRUE(first.has_value());
  first->payloads.insert(first->payloads.begin(), Notify::make(NotifyType::Cookie, Bytes(36, 0xab)));
  auto out =
      pair.deliver_to_responder(Datagram{encode_message(*first), pair.initiator_addr, pair.responder_addr});
  EXPECT_EQ(pair.responder, nullptr);
  EXPECT_EQ(pair.dispatcher->counters().bad_cookies, 1u);
  ASSERT_EQ(out.datagrams.size(), 1u);
  auto reply = decode_message(out.datagrams[0].bytes);
  ASSERT_TRUE(reply.has_value());
  const Notify* fresh = find_notify(*reply, NotifyType::Cookie);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->data, Bytes(36, 0xab));
}

class Selectors : public ::testing::Test {
 protected:
  void configure(std::vector<TrafficSelector> i_local, std::vector<TrafficSelector> i_remote,
                 std::vector<TrafficSelector> r_local, std::vector<TrafficSelector> r_remote) {
    pair.peer_i->children[0].local_ts = std::move(i_local);
    pair.peer_i->children[0].remote_ts = std::move(i_remote);
    pair.peer_r().children[0].local_ts = std::move(r_local);
    pair.peer_r().children[0].remote_ts = std::move(r_remote);
  }
  SaPair pair;
};

TEST_F(Selectors, ResponderNarrowsToItsPolicy) {
  configure({ts("10.9.0.0/16")}, {ts("10.0.0.0/8")}, {ts("10.1.0.0/24")}, {ts("10.9.0.0/16")});
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const auto* child_i = pair.log_i.first<ChildSaEstablished>();
  const auto* child_r = pair.log_r.first<ChildSaEstablished>();
  ASSERT_TRUE(child_i && child_r);
  EXPECT_EQ(child_i->remote_ts, std::vector<TrafficSelector>{ts("10.1.0.0/24")});
  EXPECT_EQ(child_i->local_ts, std::vector<TrafficSelector>{ts("10.9.0.0/16")});
  EXPECT_EQ(child_r->local_ts, std::vector<TrafficSelector>{ts("10.1.0.0/24")});
  auto answer = pair.payloads_of(3);
  ASSERT_TRUE(find<TsResponder>(answer));
  EXPECT_EQ(find<TsResponder>(answer)->selectors, std::vector<TrafficSelector>{ts("10.1.0.0/24")});
}

TEST_F(Selectors, NoOverlapIsTsUnacceptableAndTheIkeSaStaysUp) {
  configure({ts("10.9.0.0/16")}, {ts("10.3.0.0/16")}, {ts("10.1.0.0/24")}, {ts("10.9.0.0/16")});
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_TRUE(has_notify(pair.payloads_of(3), NotifyType::TsUnacceptable));
  const auto* failed_i = pair.log_i.first<ChildSaFailed>();
  const auto* failed_r = pair.log_r.first<ChildSaFailed>();
  ASSERT_TRUE(failed_i && failed_r);
  EXPECT_EQ(failed_i->notify, NotifyType::TsUnacceptable);
  EXPECT_TRUE(failed_i->reported_by_peer);
  EXPECT_FALSE(failed_r->reported_by_peer);
  EXPECT_TRUE(pair.log_i.all<ChildSaEstablished>().empty());
  EXPECT_TRUE(pair.log_r.all<ChildSaEstablished>().empty());
  EXPECT_EQ(pair.spis_allocated_r, 0u) << "no SPI is reserved for a CHILD SA that is refused";
}

TEST_F(Selectors, TrafficAnotherOwnerHoldsIsTsUnacceptableBeforeAnySpi) {
  // The gateway says another connection holds this traffic (issue 12): the responder answers
  // TS_UNACCEPTABLE with the reason in its ChildSaFailed, reserves no SPI, keeps the IKE SA.
  configure({ts("10.1.0.0/24")}, {ts("10.2.0.0/24")}, {ts("10.2.0.0/24")}, {ts("10.1.0.0/24")});
  std::vector<std::string> asked;
  pair.check_selectors_r = [&](const std::string& connection, const Identity& peer,
                               const std::vector<TrafficSelector>& local,
                               const std::vector<TrafficSelector>& remote) -> Status {
    asked.push_back(connection + " " + peer.to_string() + " " + local.at(0).to_string() + " " +
                    remote.at(0).to_string());
    return unexpected(std::string("held by branch (reqid 2)"));
  };
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0],
            pair.peer_r().name + " " + pair.peer_i->local_id.to_string() + " 10.2.0.0/24 10.1.0.0/24");
  EXPECT_TRUE(has_notify(pair.payloads_of(3), NotifyType::TsUnacceptable));
  const auto* failed_r = pair.log_r.first<ChildSaFailed>();
  ASSERT_TRUE(failed_r);
  EXPECT_EQ(failed_r->notify, NotifyType::TsUnacceptable);
  EXPECT_EQ(failed_r->detail, "held by branch (reqid 2)");
  EXPECT_TRUE(pair.log_r.all<ChildSaEstablished>().empty());
  EXPECT_EQ(pair.spis_allocated_r, 0u);
}

TEST_F(Selectors, TrafficTheGatewayAllowsIsInstalledAsBefore) {
  configure({ts("10.1.0.0/24")}, {ts("10.2.0.0/24")}, {ts("10.2.0.0/24")}, {ts("10.1.0.0/24")});
  int asked = 0;
  pair.check_selectors_r = [&](const std::string&, const Identity&, const std::vector<TrafficSelector>&,
                               const std::vector<TrafficSelector>&) -> Status {
    ++asked;
    return {};
  };
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(pair.log_r.first<ChildSaEstablished>());
}

TEST_F(Selectors, ChildConfigIsChosenBySelectors) {
  configure({ts("10.1.0.0/24")}, {ts("10.7.0.0/24")}, {ts("10.2.0.0/24")}, {ts("10.1.0.0/24")});
  ChildConfig second{
      "lab7", {esp_proposal("aes256gcm16")}, {ts("10.7.0.0/24")}, {ts("10.1.0.0/24")}, ChildMode::Tunnel};
  pair.peer_r().children.push_back(second);
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_TRUE(pair.log_r.first<ChildSaEstablished>());
  EXPECT_EQ(pair.log_r.first<ChildSaEstablished>()->child_config, "lab7");
}

// Two children of one connection (a config's `children:`): the first rides in IKE_AUTH, the
// second follows in CREATE_CHILD_SA, and the responder matches each to its own child config by
// the proposed selectors, whatever order it lists them in.
TEST_F(Selectors, EachChildOfAConnectionFindsItsConfig) {
  configure({ts("10.1.0.0/24")}, {ts("10.2.0.0/24")}, {ts("10.2.0.0/24")}, {ts("10.1.0.0/24")});
  pair.peer_i->children[0].name = "lan-a";
  pair.peer_i->children.push_back(ChildConfig{
      "lan-b", {esp_proposal("aes256gcm16")}, {ts("10.11.0.0/24")}, {ts("10.12.0.0/24")}, ChildMode::Tunnel});
  pair.peer_r().children[0].name = "lan-a";
  pair.peer_r().children.insert(pair.peer_r().children.begin(), ChildConfig{"lan-b",
                                                                            {esp_proposal("aes256gcm16")},
                                                                            {ts("10.12.0.0/24")},
                                                                            {ts("10.11.0.0/24")},
                                                                            ChildMode::Tunnel});
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const auto children_i = pair.log_i.all<ChildSaEstablished>();
  const auto children_r = pair.log_r.all<ChildSaEstablished>();
  ASSERT_EQ(children_i.size(), 2u);
  ASSERT_EQ(children_r.size(), 2u);
  EXPECT_EQ(children_r[0]->child_config, "lan-a");
  EXPECT_EQ(children_r[0]->local_ts, std::vector<TrafficSelector>{ts("10.2.0.0/24")});
  EXPECT_EQ(children_r[1]->child_config, "lan-b");
  EXPECT_EQ(children_r[1]->local_ts, std::vector<TrafficSelector>{ts("10.12.0.0/24")});
  EXPECT_EQ(children_r[1]->remote_ts, std::vector<TrafficSelector>{ts("10.11.0.0/24")});
  EXPECT_EQ(children_i[1]->child_config, "lan-b");
  EXPECT_NE(children_i[0]->inbound_spi, children_i[1]->inbound_spi);
  // IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA: six messages.
  EXPECT_EQ(pair.wire.size(), 6u);
}

TEST(TransportMode, HonouredWhenBothSidesWantIt) {
  SaPair pair;
  // Host-to-host: empty selectors stand for each side's own address.
  pair.peer_i->children[0] = ChildConfig{"host", {esp_proposal("aes256gcm16")}, {}, {}, ChildMode::Transport};
  pair.peer_r().children[0] =
      ChildConfig{"host", {esp_proposal("aes256gcm16")}, {}, {}, ChildMode::Transport};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_TRUE(has_notify(pair.payloads_of(2), NotifyType::UseTransportMode));
  EXPECT_TRUE(has_notify(pair.payloads_of(3), NotifyType::UseTransportMode));
  const auto* child_i = pair.log_i.first<ChildSaEstablished>();
  const auto* child_r = pair.log_r.first<ChildSaEstablished>();
  ASSERT_TRUE(child_i && child_r);
  EXPECT_EQ(child_i->mode, ChildMode::Transport);
  EXPECT_EQ(child_r->mode, ChildMode::Transport);
  EXPECT_EQ(child_i->local_ts, std::vector<TrafficSelector>{ts("192.0.2.1/32")});
  EXPECT_EQ(child_i->remote_ts, std::vector<TrafficSelector>{ts("192.0.2.2/32")});
}

TEST(TransportMode, RefusedByATunnelOnlyResponderFallsBackToTunnel) {
  SaPair pair;
  pair.peer_i->children[0] = ChildConfig{"host", {esp_proposal("aes256gcm16")}, {}, {}, ChildMode::Transport};
  pair.peer_r().children[0] = ChildConfig{"host", {esp_proposal("aes256gcm16")}, {}, {}, ChildMode::Tunnel};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_TRUE(has_notify(pair.payloads_of(2), NotifyType::UseTransportMode));
  EXPECT_FALSE(has_notify(pair.payloads_of(3), NotifyType::UseTransportMode));
  EXPECT_EQ(pair.log_i.first<ChildSaEstablished>()->mode, ChildMode::Tunnel);
  EXPECT_EQ(pair.log_r.first<ChildSaEstablished>()->mode, ChildMode::Tunnel);
}

TEST(TransportMode, NotUsedForSubnets) {
  SaPair pair;
  pair.peer_i->children[0].mode = ChildMode::Transport;
  pair.peer_r().children[0].mode = ChildMode::Transport;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_EQ(pair.log_r.first<ChildSaEstablished>()->mode, ChildMode::Tunnel);
  EXPECT_EQ(pair.log_i.first<ChildSaEstablished>()->mode, ChildMode::Tunnel);
}

}  // namespace
}  // namespace natgate::ike
