// Issue 12 (3), (4), (6): what a peer may cost before and after it authenticated.
//  - With EAP (RFC 7296 §2.16) no pool address is leased and no SPI reserved before the last
//    IKE_AUTH round has authenticated the peer; what was reserved for a CHILD SA that never came
//    up goes back.
//  - A replayed request (a retransmission from elsewhere) moves nothing and is not reflected
//    there; a side that is itself behind a NAT never follows the peer (§2.23).
//  - daemon.limits: selectors per TS payload, CHILD SAs per IKE SA, rekeys per minute.
#include <gtest/gtest.h>

#include "ike/auth/mschapv2.h"
#include "ike/codec/message.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using iana::NotifyType;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

class CountingPool final : public VirtualIpProvider {
 public:
  unsigned asked = 0;
  std::optional<Expected<VirtualIpAttributes>> assign(const std::string&, const Identity&,
                                                      const VirtualIpRequest&) override {
    ++asked;
    VirtualIpAttributes a;
    a.addresses = {ip("10.99.0.7")};
    return Expected<VirtualIpAttributes>(a);
  }
};

// A PSK gateway with EAP-MSCHAPv2 road warriors (local.auth: psk, auth: eap-mschapv2).
class EapRoadWarrior : public ::testing::Test {
 protected:
  void configure(const std::string& client_password) {
    auto gateway = std::make_shared<AuthConfig>();
    gateway->local = AuthKind::Psk;
    gateway->remote = AuthKind::EapMschapv2;
    gateway->eap_user_hash = [](std::string_view user) -> std::optional<SecretBytes> {
      if (user != "carol") return std::nullopt;
      return *mschapv2::nt_password_hash("carol-password");
    };
    auto client = std::make_shared<AuthConfig>();
    client->local = AuthKind::EapMschapv2;
    client->remote = AuthKind::Psk;
    client->eap_identity = "carol";
    client->eap_password = secret(client_password);
    pair.peer_i->auth = client;
    pair.peer_r().auth = gateway;
    pair.peer_i->local_id = Identity::email("carol@lab");
    pair.peer_r().remote_id = Identity::email("carol@lab");
    pair.peer_i->request_virtual_ips = {IpAddress::any(IpFamily::V4)};
    pair.peer_i->children[0].local_ts = {ts("0.0.0.0/0")};
    pair.peer_r().children[0].remote_ts = {};
    pair.virtual_ips_r = &pool;
    // What the responder had handed out when it sent each datagram.
    pair.deliver_if = [this](const WireRecord& rec) {
      if (!rec.from_initiator) seen.push_back({pool.asked, pair.spis_allocated_r});
      return !drop_from_initiator || !rec.from_initiator || pair.wire.size() < 3;
    };
  }
  struct Seen {
    unsigned leases;
    std::uint32_t spis;
  };
  SaPair pair;
  CountingPool pool;
  std::vector<Seen> seen;  // per responder datagram
  bool drop_from_initiator = false;
};

TEST_F(EapRoadWarrior, LeaseAndSpiOnlyInTheLastRound) {
  configure("carol-password");
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  // IKE_SA_INIT, then 5 IKE_AUTH responses (EAP Identity, Challenge, Success, EAP-Success, AUTH+SA).
  ASSERT_GE(seen.size(), 5u);
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
    EXPECT_EQ(seen[i].leases, 0u) << "response " << i << " went out after a lease";
    EXPECT_EQ(seen[i].spis, 0u) << "response " << i << " went out after an SPI reservation";
  }
  EXPECT_EQ(seen.back().leases, 1u);
  EXPECT_EQ(seen.back().spis, 1u);
  const auto* child = pair.log_r.first<ChildSaEstablished>();
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->remote_ts, std::vector<TrafficSelector>{ts("10.99.0.7/32")}) << "the first request's CP";
  EXPECT_TRUE(pair.spis_released_r.empty());
}

TEST_F(EapRoadWarrior, AWrongPasswordTakesNothing) {
  configure("not-carols-password");
  pair.start_and_run();
  EXPECT_FALSE(pair.both_established());
  ASSERT_NE(pair.log_r.first<AuthenticationFailed>(), nullptr);
  EXPECT_EQ(pool.asked, 0u);
  EXPECT_EQ(pair.spis_allocated_r, 0u);
  EXPECT_EQ(pair.log_r.first<VirtualIpsAssigned>(), nullptr);
}

TEST_F(EapRoadWarrior, AnAbandonedEapTakesNothingAndEndsAtTheHalfOpenTimeout) {
  configure("carol-password");
  drop_from_initiator = true;  // the client sends IKE_SA_INIT and the first IKE_AUTH, then nothing
  pair.start_and_run();
  ASSERT_EQ(pair.responder->state(), SaState::Connecting);
  pair.advance(pair.configs_r.ike->half_open_timeout + std::chrono::seconds(1));
  EXPECT_EQ(pair.responder->state(), SaState::Deleted);
  EXPECT_EQ(pool.asked, 0u);
  EXPECT_EQ(pair.spis_allocated_r, 0u);
}

// ---- SPIs reserved for CHILD SAs that never come up go back ----

TEST(SpiReservation, ARefusedChildSaGivesItsSpiBack) {
  SaPair pair;
  pair.peer_r().children[0].local_ts = {ts("10.77.0.0/24")};  // nothing in common: TS_UNACCEPTABLE
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.spis_allocated_i, 1u);
  EXPECT_EQ(pair.spis_released_i, std::vector<std::uint32_t>{0xc1000001u});
  EXPECT_EQ(pair.spis_allocated_r, 0u) << "the responder refused before reserving";
}

TEST(SpiReservation, AnIkeSaThatDiesMidExchangeGivesItsSpiBack) {
  SaPair pair;
  pair.deliver_if = [&](const WireRecord& rec) { return rec.from_initiator || pair.wire.size() < 3; };
  pair.start_and_run();
  ASSERT_EQ(pair.spis_allocated_i, 1u);
  EXPECT_TRUE(pair.spis_released_i.empty()) << "still waiting for the IKE_AUTH response";
  pair.advance(std::chrono::minutes(5));  // retransmissions exhausted
  ASSERT_EQ(pair.initiator->state(), SaState::Deleted);
  EXPECT_EQ(pair.spis_released_i, std::vector<std::uint32_t>{0xc1000001u});
}

TEST(SpiReservation, AnInstalledChildSaKeepsItsSpi) {
  SaPair pair;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_TRUE(pair.spis_released_i.empty());
  EXPECT_TRUE(pair.spis_released_r.empty());
  pair.absorb_for_test(pair.initiator->delete_ike_sa(pair.now), true);
  pair.run();
  EXPECT_TRUE(pair.spis_released_i.empty()) << "installed SAs are the daemon's to remove";
  EXPECT_TRUE(pair.spis_released_r.empty());
}

// ---- §2.23: replays and NAT on our side ----

Endpoint behind_nat(const Endpoint& e) {
  return endpoint("198.51.100.7", static_cast<std::uint16_t>(e.port == 500 ? 40000 : 40001));
}

TEST(PeerAddress, AReplayedRequestFromElsewhereMovesNothingAndIsNotReflected) {
  SaPair pair;
  pair.nat = behind_nat;  // the peer is behind a NAT: new requests may move the SA
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  const Endpoint original = pair.responder->remote();
  ASSERT_EQ(original, endpoint("198.51.100.7", 40001));

  // A DPD, captured on the way and answered as usual.
  auto dpd = pair.initiator->check_liveness(pair.now);
  ASSERT_EQ(dpd.datagrams.size(), 1u);
  const Datagram captured = dpd.datagrams[0];
  auto first = pair.deliver_to_responder(captured);
  ASSERT_EQ(first.datagrams.size(), 1u);

  // The attacker sends it again from its own address.
  pair.nat = [](const Endpoint&) { return endpoint("203.0.113.66", 6666); };
  auto replayed = pair.deliver_to_responder(captured);
  for (const auto& e : replayed.events) EXPECT_FALSE(std::holds_alternative<EndpointsChanged>(e));
  EXPECT_EQ(pair.responder->remote(), original);
  for (const auto& d : replayed.datagrams) EXPECT_EQ(d.remote, original) << "reflected to the attacker";
  EXPECT_EQ(pair.responder->exchange_counters().cached_responses_resent, 1u);
  for (const auto& child : pair.log_r.all<ChildSaEstablished>()) EXPECT_EQ(child->remote, original);
}

TEST(PeerAddress, AReplayDoesNotCountAsASignOfLife) {
  SaPair pair;
  pair.configs_r.ike->dpd_interval = std::chrono::seconds(30);
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  auto dpd = pair.initiator->check_liveness(pair.now);
  ASSERT_EQ(dpd.datagrams.size(), 1u);
  pair.deliver_to_responder(dpd.datagrams[0]);
  // The peer goes silent (nothing reaches it any more); replays of its last request keep coming
  // every 10 s.
  pair.deliver_if = [](const WireRecord& rec) { return rec.from_initiator; };
  for (int i = 0; i < 40 && pair.responder->state() != SaState::Deleted; ++i) {
    pair.advance(std::chrono::seconds(10));
    pair.deliver_to_responder(dpd.datagrams[0]);
  }
  EXPECT_EQ(pair.responder->state(), SaState::Deleted) << "dead peer detection was not fooled";
}

TEST(PeerAddress, NoMoveWhenOnlyWeAreBehindANat) {
  SaPair pair;
  pair.responder_addr = endpoint("203.0.113.5", 500);
  pair.responder_private = ip("192.168.7.2");  // a port forward in front of the responder
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_TRUE(pair.responder->nat().local_behind_nat);
  ASSERT_FALSE(pair.responder->nat().remote_behind_nat);
  const Endpoint original = pair.responder->remote();
  // A new, authenticated request that arrives from another address (spoofed, or routed oddly).
  auto dpd = pair.initiator->check_liveness(pair.now);
  ASSERT_EQ(dpd.datagrams.size(), 1u);
  pair.nat = [](const Endpoint&) { return endpoint("203.0.113.66", 4500); };
  auto out = pair.deliver_to_responder(dpd.datagrams[0]);
  for (const auto& e : out.events) EXPECT_FALSE(std::holds_alternative<EndpointsChanged>(e));
  EXPECT_EQ(pair.responder->remote(), original);
  ASSERT_EQ(out.datagrams.size(), 1u) << "it is answered (§2.11), from where it came";
}

TEST(PeerAddress, AnInitiatorBehindANatDoesNotFollowTheGateway) {
  SaPair pair;
  pair.nat = behind_nat;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_TRUE(pair.initiator->nat().local_behind_nat);
  const Endpoint gateway = pair.initiator->remote();
  // The gateway's DPD, arriving from an address that is not the gateway's.
  auto dpd = pair.responder->check_liveness(pair.now);
  ASSERT_EQ(dpd.datagrams.size(), 1u);
  Datagram d = dpd.datagrams[0];
  d.local = endpoint("203.0.113.66", 4500);
  auto out = pair.deliver_to_initiator(d);
  for (const auto& e : out.events) EXPECT_FALSE(std::holds_alternative<EndpointsChanged>(e));
  EXPECT_EQ(pair.initiator->remote(), gateway);
}

// ---- daemon.limits ----

std::vector<const ChildSaFailed*> refused_by_peer(const SaPair& pair, NotifyType notify) {
  std::vector<const ChildSaFailed*> out;
  for (const auto* f : pair.log_i.all<ChildSaFailed>())
    if (f->reported_by_peer && f->notify == notify) out.push_back(f);
  return out;
}

TEST(PeerLimits, TooManySelectorsInOnePayloadAreTsUnacceptable) {
  SaPair pair;
  pair.limits_r.selectors_per_ts = 4;
  for (int i = 1; i <= 4; ++i)
    pair.peer_i->children[0].local_ts.push_back(ts("10.1." + std::to_string(i) + ".0/24"));  // 5 in TSi
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established()) << "the IKE SA stands (§1.2)";
  EXPECT_EQ(refused_by_peer(pair, NotifyType::TsUnacceptable).size(), 1u);
  EXPECT_TRUE(pair.responder->children().empty());
  EXPECT_EQ(pair.spis_allocated_r, 0u);

  // Within the limit it works.
  SaPair ok;
  ok.limits_r.selectors_per_ts = 4;
  for (int i = 1; i <= 3; ++i)
    ok.peer_i->children[0].local_ts.push_back(ts("10.1." + std::to_string(i) + ".0/24"));
  ok.start_and_run();
  ASSERT_TRUE(ok.both_established());
  EXPECT_EQ(ok.responder->children().size(), 1u);
}

TEST(PeerLimits, ChildSasBeyondTheCapAreNoAdditionalSas) {
  SaPair pair;
  pair.limits_r.child_sas_per_ike_sa = 3;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  for (int i = 0; i < 5; ++i) {
    pair.absorb_for_test(pair.initiator->create_child_sa("net", pair.now), true);
    pair.run();
  }
  EXPECT_EQ(pair.responder->children().size(), 3u);
  EXPECT_EQ(pair.initiator->children().size(), 3u);
  EXPECT_EQ(refused_by_peer(pair, NotifyType::NoAdditionalSas).size(), 3u);
  EXPECT_TRUE(pair.both_established());
  // At the cap a rekey still works: it replaces a CHILD SA.
  const std::uint32_t old = pair.initiator->children()[0].inbound_spi;
  pair.absorb_for_test(pair.initiator->rekey_child_sa(old, pair.now), true);
  pair.run();
  EXPECT_EQ(pair.initiator->children().size(), 3u);
  EXPECT_EQ(pair.initiator->children().back().inbound_spi, pair.spis_allocated_i + 0xc1000000u);
  EXPECT_EQ(pair.log_i.all<ChildSaEstablished>().size(), 4u);
}

TEST(PeerLimits, RekeysBeyondTheRateAreTemporaryFailureAndTheBudgetSurvivesAnIkeRekey) {
  SaPair pair;
  pair.limits_r.rekeys_per_minute = 3;
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  auto rekey_child = [&] {
    const std::uint32_t spi = pair.initiator->children().front().inbound_spi;
    pair.absorb_for_test(pair.initiator->rekey_child_sa(spi, pair.now), true);
    pair.run();
  };
  rekey_child();
  rekey_child();
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);  // the third
  pair.run();
  ASSERT_EQ(pair.log_i.all<IkeSaRekeyed>().size(), 1u);
  ASSERT_TRUE(pair.both_established());
  rekey_child();  // the fourth within a minute, on the new IKE SA
  EXPECT_EQ(refused_by_peer(pair, NotifyType::TemporaryFailure).size(), 1u);
  EXPECT_EQ(pair.log_r.all<ChildSaEstablished>().size(), 3u) << "IKE_AUTH's and two rekeys";
  EXPECT_TRUE(pair.both_established());
  EXPECT_EQ(pair.initiator->children().size(), 1u) << "the refused rekey left the CHILD SA as it was";

  pair.now += std::chrono::seconds(61);
  rekey_child();
  EXPECT_EQ(refused_by_peer(pair, NotifyType::TemporaryFailure).size(), 1u) << "a minute later it is fine";
  EXPECT_EQ(pair.log_r.all<ChildSaEstablished>().size(), 4u);
}

}  // namespace
}  // namespace natgate::ike
