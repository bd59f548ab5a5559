// Who may authenticate as whom in IKE_AUTH (issue 12, items 1 and 7), between two in-memory
// IkeSa instances:
//   - the EAP name (EAP-Identity, MS-CHAPv2 Name) and an EAP-TLS certificate must carry the IDi,
//     so dave with his own password cannot claim carol's IDi (and her connection and address);
//   - failed EAP attempts per identity and per source are limited within a minute;
//   - a connection chosen by identity must accept the IKE suite IKE_SA_INIT negotiated from the
//     union of several connections' proposals.
#include <gtest/gtest.h>

// First: sa_pair.h's TimePoint is ike::TimePoint (steady_clock); test_pki.h declares a
// testing::TimePoint (system_clock) that would otherwise be the one SaPair::now names here.
// clang-format off
#include "sa_pair.h"
// clang-format on

#include "../auth/test_pki.h"
#include "ike/auth/eap_packets.h"
#include "ike/auth/mschapv2.h"
#include "ike/codec/message.h"
#include "ike/exchange/eap_failure_limiter.h"
#include "ike/exchange/eap_identity.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using SteadyTime = Clock::time_point;

struct Pki {
  PrivateKey ca_key;
  X509Certificate ca;
  std::shared_ptr<TrustStore> trust = std::make_shared<TrustStore>();
};

Pki make_ca(const std::string& name) {
  auto key = *PrivateKey::generate_ec(EcCurve::P256);
  Pki pki{key,
          issue({"/O=natgate/CN=" + name, 1, day(2024, 1, 1), day(2034, 1, 1), true, ""}, key, nullptr, key),
          std::make_shared<TrustStore>()};
  EXPECT_TRUE(pki.trust->add_ca(pki.ca).has_value());
  return pki;
}

CertificateChain end_entity(const std::string& san, long serial, const PrivateKey& key, const Pki& ca) {
  CertSpec spec{
      "/O=natgate/CN=" + san.substr(san.find(':') + 1), serial, day(2024, 1, 1), day(2034, 1, 1), false, san};
  return CertificateChain{issue(spec, key, &ca.ca, ca.ca_key), {}};
}

std::shared_ptr<AuthConfig> cert_auth(CertificateChain cert, PrivateKey key,
                                      std::shared_ptr<const TrustStore> trust) {
  auto a = std::make_shared<AuthConfig>();
  a->local = AuthKind::PublicKey;
  a->remote = AuthKind::PublicKey;
  a->certificate = std::move(cert);
  a->key = std::move(key);
  a->trust = std::move(trust);
  a->wall_clock = [] { return day(2026, 6, 1); };
  return a;
}

std::vector<std::vector<Payload>> ike_auth_messages(const SaPair& pair) {
  std::vector<std::vector<Payload>> out;
  for (std::size_t i = 0; i < pair.wire.size(); ++i) {
    if (pair.header_of(i).exchange != iana::ExchangeType::IkeAuth) continue;
    out.push_back(pair.payloads_of(i));
  }
  return out;
}

// The MS-CHAPv2 opcodes the responder sent (Challenge 1, Success 3, Failure 4).
std::vector<std::uint8_t> mschap_requests(const SaPair& pair) {
  std::vector<std::uint8_t> out;
  auto msgs = ike_auth_messages(pair);
  for (std::size_t k = 1; k < msgs.size(); k += 2) {
    const auto* e = find<Eap>(msgs[k]);
    if (e && e->code == eap::kRequest && e->type == eap::kMschapv2 && !e->data.empty())
      out.push_back(e->data[0]);
  }
  return out;
}

void expect_refused(const SaPair& pair, const std::string& reason_part) {
  EXPECT_NE(pair.initiator->state(), SaState::Established);
  EXPECT_FALSE(pair.responder && pair.responder->state() == SaState::Established);
  EXPECT_EQ(pair.log_r.first<IkeSaEstablished>(), nullptr);
  EXPECT_TRUE(pair.initiator->children().empty());
  const auto* r = pair.log_r.first<AuthenticationFailed>();
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->detail.find(reason_part), std::string::npos) << r->detail;
  auto msgs = ike_auth_messages(pair);
  ASSERT_GE(msgs.size(), 2u);
  EXPECT_NE(find_notify(msgs.back(), iana::NotifyType::AuthenticationFailed), nullptr);
}

// ---- EAP-MSCHAPv2: the gateway knows carol and dave ----

class EapBinding : public ::testing::Test {
 protected:
  Pki ca = make_ca("EAP CA");
  PrivateKey sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  SteadyTime now = SteadyTime{} + std::chrono::hours(1);
  EapFailureLimiter limiter{EapFailureLimits{}, [this] { return now; }};

  std::shared_ptr<AuthConfig> gateway(bool ask_identity = true) {
    auto g = cert_auth(end_entity("DNS:sun.lab", 80, sun_key, ca), sun_key, ca.trust);
    g->remote = AuthKind::EapMschapv2;
    g->eap_ask_identity = ask_identity;
    g->eap_user_hash = [](std::string_view user) -> std::optional<SecretBytes> {
      if (user == "carol") return *mschapv2::nt_password_hash("carol-password");
      if (user == "dave") return *mschapv2::nt_password_hash("dave-password");
      return std::nullopt;
    };
    return g;
  }

  // A client claiming `idi` that runs EAP as `eap_user`; the gateway's connection names
  // `remote_id` (nullopt: any identity).
  std::unique_ptr<SaPair> attempt(const Identity& idi, const std::string& eap_user,
                                  const std::string& password, std::optional<Identity> remote_id,
                                  bool ask_identity = true, const std::string& from = "192.0.2.1") {
    auto pair = std::make_unique<SaPair>();
    auto client = std::make_shared<AuthConfig>();
    client->local = AuthKind::EapMschapv2;
    client->remote = AuthKind::PublicKey;
    client->trust = ca.trust;
    client->wall_clock = [] { return day(2026, 6, 1); };
    client->eap_identity = eap_user;
    client->eap_password = secret(password);
    pair->peer_i->auth = client;
    pair->peer_i->psk = SecretBytes();
    pair->peer_i->local_id = idi;
    pair->peer_r().auth = gateway(ask_identity);
    pair->peer_r().psk = SecretBytes();
    pair->peer_r().remote_id = std::move(remote_id);
    pair->ike_i->fragmentation = false;
    pair->configs_r.ike->fragmentation = false;
    pair->initiator_addr = endpoint(from, 500);
    pair->eap_failures_r = &limiter;
    pair->start_and_run();
    return pair;
  }

  const Identity carol = Identity::email("carol@lab");
  const Identity dave = Identity::email("dave@lab");
};

TEST_F(EapBinding, CarolWithHerPasswordStillWorks) {
  auto pair = attempt(carol, "carol", "carol-password", carol);
  ASSERT_TRUE(pair->both_established());
  const auto* up = pair->log_r.first<IkeSaEstablished>();
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->remote_id, carol);
  EXPECT_EQ(pair->responder->children().size(), 1u);
  // The IDi's own text works as the EAP name as well.
  auto full = attempt(carol, "carol@lab", "carol-password", carol);
  EXPECT_FALSE(full->both_established());  // no user "carol@lab": unknown user, but the name was bound
  EXPECT_NE(full->log_r.first<AuthenticationFailed>()->detail.find("unknown user"), std::string::npos);
}

TEST_F(EapBinding, DaveClaimingCarolIsRefusedAtTheEapIdentity) {
  auto pair = attempt(carol, "dave", "dave-password", carol);
  expect_refused(*pair, "EAP identity 'dave' is not the identity the peer claimed");
  // Refused before the MS-CHAPv2 Challenge: IDi / IDr+AUTH+Identity request / Identity / Failure.
  EXPECT_TRUE(mschap_requests(*pair).empty());
  auto msgs = ike_auth_messages(*pair);
  EXPECT_EQ(msgs.size(), 4u);
  ASSERT_NE(find<Eap>(msgs.back()), nullptr);
  EXPECT_EQ(find<Eap>(msgs.back())->code, eap::kFailure);
  EXPECT_EQ(find<SecurityAssociation>(msgs.back()), nullptr);
}

TEST_F(EapBinding, DaveClaimingCarolIsRefusedAtTheMschapNameWithoutIdentityRound) {
  auto pair = attempt(carol, "dave", "dave-password", carol, /*ask_identity=*/false);
  expect_refused(*pair, "MS-CHAPv2 name 'dave' is not the identity the peer claimed");
  // The Challenge went out, the answer was a Failure (E=691), never a Success.
  EXPECT_EQ(mschap_requests(*pair), (std::vector<std::uint8_t>{eap::kChallenge, eap::kMsFailure}));
}

TEST_F(EapBinding, DaveClaimingCarolOnAnAnyIdentityConnectionIsRefused) {
  auto pair = attempt(carol, "dave", "dave-password", std::nullopt);
  expect_refused(*pair, "is not the identity the peer claimed");
}

TEST_F(EapBinding, DaveAsHimselfOnAnAnyIdentityConnectionWorks) {
  auto pair = attempt(dave, "dave", "dave-password", std::nullopt);
  ASSERT_TRUE(pair->both_established());
  EXPECT_EQ(pair->log_r.first<IkeSaEstablished>()->remote_id, dave);
}

TEST_F(EapBinding, NameRules) {
  EXPECT_TRUE(eap_name_binds("carol", Identity::email("carol@lab")));
  EXPECT_TRUE(eap_name_binds("carol@lab", Identity::email("carol@lab")));
  EXPECT_TRUE(eap_name_binds("CORP\\carol", Identity::email("carol@lab")));
  EXPECT_TRUE(eap_name_binds("carol", Identity::fqdn("carol")));
  EXPECT_TRUE(eap_name_binds("192.0.2.7", Identity::address(*IpAddress::parse("192.0.2.7"))));
  EXPECT_FALSE(eap_name_binds("dave", Identity::email("carol@lab")));
  EXPECT_FALSE(eap_name_binds("lab", Identity::email("carol@lab")));
  EXPECT_FALSE(eap_name_binds("carol@lab.x", Identity::email("carol@lab")));
  EXPECT_FALSE(eap_name_binds("", Identity::email("carol@lab")));
  EXPECT_FALSE(eap_name_binds("carol", Identity::fqdn("carol.lab")));
  EXPECT_FALSE(eap_name_binds("carol\\", Identity::email("carol@lab")));
}

// ---- password guessing ----

TEST_F(EapBinding, FailuresPerIdentityLockItOutForAMinute) {
  for (int k = 0; k < 5; ++k) {
    auto guess = attempt(carol, "carol", "guess-" + std::to_string(k), carol);
    expect_refused(*guess, "wrong password");
    now += std::chrono::seconds(5);
  }
  // The sixth attempt, with the right password, is refused before any EAP: the first IKE_AUTH
  // response is AUTHENTICATION_FAILED alone.
  auto locked = attempt(carol, "carol", "carol-password", carol);
  expect_refused(*locked, "EAP refused: 5 failed EAP attempts for email:carol@lab");
  auto msgs = ike_auth_messages(*locked);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(find<Eap>(msgs[1]), nullptr);
  EXPECT_EQ(find<Authentication>(msgs[1]), nullptr);
  // Another identity from the same source is not affected.
  EXPECT_TRUE(attempt(dave, "dave", "dave-password", dave)->both_established());
  EXPECT_EQ(limiter.tracked_identities(), 1u);
  // Refusals do not extend the lockout: a minute after the first failure only four remain.
  now += std::chrono::seconds(60 - 25 + 1);
  EXPECT_TRUE(attempt(carol, "carol", "carol-password", carol)->both_established());
}

TEST_F(EapBinding, FailuresPerSourceLockItOut) {
  EapFailureLimits limits;
  limits.per_source = 3;
  limiter.set_limits(limits);
  for (const char* user : {"erin", "frank", "grace"}) {
    auto guess =
        attempt(Identity::email(std::string(user) + "@lab"), user, "x", std::nullopt, true, "192.0.2.50");
    expect_refused(*guess, "unknown user");
  }
  auto locked = attempt(carol, "carol", "carol-password", carol, true, "192.0.2.50");
  expect_refused(*locked, "EAP refused: 3 failed EAP attempts from 192.0.2.50");
  EXPECT_TRUE(attempt(carol, "carol", "carol-password", carol, true, "192.0.2.51")->both_established());
  now += std::chrono::seconds(61);
  EXPECT_TRUE(attempt(carol, "carol", "carol-password", carol, true, "192.0.2.50")->both_established());
}

TEST(EapFailureLimiter, MemoryIsBoundedAndIpv6CountsPerPrefix) {
  SteadyTime now = SteadyTime{} + std::chrono::hours(1);
  EapFailureLimits limits;
  limits.max_tracked = 64;
  EapFailureLimiter limiter(limits, [&] { return now; });
  // 10,000 distinct identities of 1 KB each: at most 64 kept, as digests.
  const std::string pad(1024, 'x');
  for (int k = 0; k < 10000; ++k)
    limiter.record_failure(Identity::fqdn(pad + std::to_string(k)),
                           *IpAddress::parse("10.0.0." + std::to_string(k % 200)));
  EXPECT_EQ(limiter.tracked_identities(), 64u);
  EXPECT_EQ(limiter.tracked_sources(), 64u);
  // The most recent ones are the ones kept.
  for (int k = 0; k < 4; ++k)
    limiter.record_failure(Identity::fqdn(pad + "9999"), *IpAddress::parse("10.0.0.1"));
  EXPECT_TRUE(limiter.refusal(Identity::fqdn(pad + "9999"), *IpAddress::parse("10.9.9.9")).has_value());
  EXPECT_FALSE(limiter.refusal(Identity::fqdn(pad + "0"), *IpAddress::parse("10.9.9.9")).has_value());

  // IPv6: any address of one /64 is one source.
  EapFailureLimiter v6({1000, 3, std::chrono::minutes(1), 64}, [&] { return now; });
  for (int k = 1; k <= 3; ++k)
    v6.record_failure(Identity::fqdn("u" + std::to_string(k)),
                      *IpAddress::parse("2001:db8:1:2::" + std::to_string(k)));
  EXPECT_TRUE(v6.refusal(Identity::fqdn("v"), *IpAddress::parse("2001:db8:1:2:ffff::1")).has_value());
  EXPECT_FALSE(v6.refusal(Identity::fqdn("v"), *IpAddress::parse("2001:db8:1:3::1")).has_value());
  now += std::chrono::seconds(61);
  EXPECT_FALSE(v6.refusal(Identity::fqdn("v"), *IpAddress::parse("2001:db8:1:2:ffff::1")).has_value());
  EXPECT_EQ(v6.tracked_sources(), 0u);  // expired entries are forgotten when looked at
}

// ---- EAP-TLS: the client certificate must carry the IDi ----

class EapTlsBinding : public ::testing::Test {
 protected:
  Pki ca = make_ca("TLS CA");
  PrivateKey moon_key = *PrivateKey::generate_ec(EcCurve::P256);
  PrivateKey sun_key = *PrivateKey::generate_ec(EcCurve::P256);
  SaPair pair;

  void run(const Identity& idi) {
    auto gateway = cert_auth(end_entity("DNS:sun.lab", 90, sun_key, ca), sun_key, ca.trust);
    gateway->remote = AuthKind::EapTls;
    auto client = cert_auth(end_entity("DNS:moon.lab", 91, moon_key, ca), moon_key, ca.trust);
    client->local = AuthKind::EapTls;
    client->eap_identity = "moon.lab";
    pair.peer_i->auth = client;
    pair.peer_r().auth = gateway;
    pair.peer_i->psk = SecretBytes();
    pair.peer_r().psk = SecretBytes();
    pair.peer_i->local_id = idi;
    pair.peer_r().remote_id.reset();  // any identity: the certificate decides
    pair.ike_i->fragmentation = false;
    pair.configs_r.ike->fragmentation = false;
    pair.start_and_run();
  }
};

TEST_F(EapTlsBinding, CertificateOfTheClaimedIdentityWorks) {
  run(Identity::fqdn("moon.lab"));
  ASSERT_TRUE(pair.both_established());
  EXPECT_EQ(pair.log_r.first<IkeSaEstablished>()->remote_id, Identity::fqdn("moon.lab"));
}

TEST_F(EapTlsBinding, CertificateOfAnotherIdentityIsRefused) {
  run(Identity::fqdn("carol.lab"));
  expect_refused(pair, "EAP-TLS certificate");
}

// ---- IKE proposals per connection ----

// The responder has two connections (a.lab: ecp384, b.lab: x448) and offers the union of their
// proposals in IKE_SA_INIT, as the gateway's ProfileRegistry does for `any` connections.
class ProposalPerConnection : public ::testing::Test {
 protected:
  SaPair pair;
  const ProposalSpec proposal_a = ike_proposal("aes256-sha384-ecp384");
  const ProposalSpec proposal_b = ike_proposal("aes128gcm16-prfsha256-x448");

  void SetUp() override {
    pair.configs_r.ike->proposals = {proposal_a, proposal_b};
    auto& a = pair.peer_r();
    a.name = "branch-a";
    a.remote_id = Identity::fqdn("a.lab");
    a.ike_proposals = {proposal_a};
    auto b = std::make_shared<PeerConfig>(a);
    b->name = "branch-b";
    b->remote_id = Identity::fqdn("b.lab");
    b->ike_proposals = {proposal_b};
    pair.configs_r.peers.push_back(b);
  }
};

TEST_F(ProposalPerConnection, EachBranchComesUpWithItsOwnProposal) {
  for (const auto& [id, proposal, group] : {std::tuple{"a.lab", proposal_a, iana::DhGroup::Ecp384},
                                            std::tuple{"b.lab", proposal_b, iana::DhGroup::Curve448}}) {
    SaPair p;
    p.configs_r = pair.configs_r;
    p.peer_i->local_id = Identity::fqdn(id);
    p.ike_i->proposals = {proposal};
    p.start_and_run();
    ASSERT_TRUE(p.both_established()) << id;
    const auto* up = p.log_r.first<IkeSaEstablished>();
    EXPECT_EQ(up->peer_config, std::string("branch-") + id[0]);
    EXPECT_EQ(up->suite.dh, group);
  }
}

TEST_F(ProposalPerConnection, NegotiatingAsAAndAuthenticatingAsBIsRefused) {
  pair.peer_i->local_id = Identity::fqdn("b.lab");
  pair.ike_i->proposals = {proposal_a};
  pair.start_and_run();
  // IKE_SA_INIT succeeded with A's suite (ECP-384)...
  ASSERT_FALSE(pair.header_of(1).spi_r.is_zero());
  // ...and IKE_AUTH as b.lab is refused.
  expect_refused(pair, "IKE proposal aes256-sha384-ecp384 is not among connection branch-b's");
}

TEST_F(ProposalPerConnection, WithoutAListEverySuiteIsAccepted) {
  pair.configs_r.peers[1] = std::make_shared<PeerConfig>(*pair.configs_r.peers[1]);
  pair.configs_r.peers[1]->ike_proposals.clear();
  pair.peer_i->local_id = Identity::fqdn("b.lab");
  pair.ike_i->proposals = {proposal_a};
  pair.start_and_run();
  EXPECT_TRUE(pair.both_established());
}

}  // namespace
}  // namespace natgate::ike

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

// Once IKE_AUTH chose branch-b, its IKE SA rekeys (§2.18) from branch-b's proposals alone, not
// from the union IKE_SA_INIT offered.
TEST_F(ProposalPerConnection, RekeyUsesTheConnectionsOwnProposals) {
  pair.peer_i->local_id = Identity::fqdn("b.lab");
  pair.ike_i->proposals = {proposal_b};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  // The initiator now offers only branch-a's proposal (the SA shares this config object).
  pair.ike_i->proposals = {proposal_a};
  const std::size_t before = pair.wire.size();
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  EXPECT_EQ(pair.log_r.first<IkeSaRekeyed>(), nullptr);
  EXPECT_EQ(pair.log_i.first<IkeSaRekeyed>(), nullptr);
  bool refused = false;
  for (std::size_t k = before; k < pair.wire.size(); ++k)
    if (!pair.wire[k].from_initiator && find_notify(pair.payloads_of(k), iana::NotifyType::NoProposalChosen))
      refused = true;
  EXPECT_TRUE(refused);
  // With branch-b's proposal the rekey goes through.
  pair.ike_i->proposals = {proposal_b};
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  EXPECT_NE(pair.log_r.first<IkeSaRekeyed>(), nullptr);
}

}  // namespace
}  // namespace natgate::ike
