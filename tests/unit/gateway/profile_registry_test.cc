// The responder's connection lookup (gateway/core/profile_registry): IKE_SA_INIT offers the
// union of the IKE proposals of every connection the peer's address may belong to (issue 12,
// item 7), and each connection's PeerConfig carries its own proposals for the IKE_AUTH check.
#include "gateway/core/profile_registry.h"

#include <gtest/gtest.h>

#include "gateway/config/config_loader.h"
#include "ike/suite/crypto_suite.h"

namespace natgate::gateway::core {
namespace {

// A hub with two `any` connections whose branches use different IKE proposals, and one
// connection for a fixed peer address.
constexpr const char* kHub = R"(
secrets:
  branch-a: { psk: "a-key-0123456789abcdef" }
  branch-b: { psk: "b-key-0123456789abcdef" }
  fixed: { psk: "f-key-0123456789abcdef" }
connections:
  branch-a:
    local: { id: hub.lab, subnets: [10.0.0.0/24] }
    remote: { address: any, id: a.lab, subnets: [10.1.0.0/24] }
    ike_proposals: [aes256-sha384-ecp384]
    esp_proposals: [aes256gcm16]
    auth: psk
    start: listen
  branch-b:
    local: { id: hub.lab, subnets: [10.0.0.0/24] }
    remote: { address: any, id: b.lab, subnets: [10.2.0.0/24] }
    ike_proposals: [aes128gcm16-prfsha256-x448]
    esp_proposals: [aes256gcm16]
    auth: psk
    start: listen
  fixed:
    local: { id: hub.lab, subnets: [10.0.0.0/24] }
    remote: { address: 192.0.2.9, id: f.lab, subnets: [10.3.0.0/24] }
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    auth: psk
    start: listen
)";

class Registry : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = load_config_text(kHub, "hub.yaml", "/nonexistent");
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().message);
    std::vector<std::shared_ptr<const ConnectionProfile>> profiles;
    std::uint32_t reqid = 1;
    for (const auto& c : r.config->connections) {
      auto p = build_profile(*r.config, c, reqid++);
      ASSERT_TRUE(p.has_value()) << p.error();
      profiles.push_back(*p);
    }
    registry.assign(profiles);
  }
  static ike::ProposalSpec ike_proposal(const std::string& text) {
    return *ike::parse_proposal(iana::ProtocolId::Ike, text);
  }
  static Endpoint at(const std::string& ip) { return Endpoint{*IpAddress::parse(ip), 500}; }
  ProfileRegistry registry;
  const Endpoint local = at("198.51.100.1");
};

TEST_F(Registry, AnyAddressOffersEveryAnyConnectionsProposals) {
  auto ike = registry.ike_config(local, at("203.0.113.7"));
  ASSERT_NE(ike, nullptr);
  // Config order: branch-a's first; the fixed connection's is not offered to other addresses.
  ASSERT_EQ(ike->proposals.size(), 2u);
  EXPECT_EQ(ike->proposals[0], ike_proposal("aes256-sha384-ecp384"));
  EXPECT_EQ(ike->proposals[1], ike_proposal("aes128gcm16-prfsha256-x448"));
  // The same object for every request (computed once, nothing allocated per IKE_SA_INIT).
  EXPECT_EQ(ike, registry.ike_config(local, at("203.0.113.8")));

  // A branch offering only B's proposal gets B's suite, one offering only A's gets A's.
  auto b = ike::select_suite(ike->proposals, {ike_proposal("aes128gcm16-prfsha256-x448")});
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->suite.dh, iana::DhGroup::Curve448);
  auto a = ike::select_suite(ike->proposals, {ike_proposal("aes256-sha384-ecp384")});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->suite.dh, iana::DhGroup::Ecp384);
  // Neither: nothing (NO_PROPOSAL_CHOSEN).
  EXPECT_FALSE(ike::select_suite(ike->proposals, {ike_proposal("aes128-sha256-modp2048")}).has_value());
}

TEST_F(Registry, FixedAddressPrefersItsConnectionThenAddsTheAnyOnes) {
  auto ike = registry.ike_config(local, at("192.0.2.9"));
  ASSERT_NE(ike, nullptr);
  ASSERT_EQ(ike->proposals.size(), 3u);
  EXPECT_EQ(ike->proposals[0], ike_proposal("aes256gcm16-prfsha256-x25519"));
  EXPECT_EQ(ike->proposals[1], ike_proposal("aes256-sha384-ecp384"));
  EXPECT_EQ(ike->proposals[2], ike_proposal("aes128gcm16-prfsha256-x448"));
}

TEST_F(Registry, EachPeerConfigCarriesItsOwnProposals) {
  auto a = registry.peer_config(ike::Identity::fqdn("a.lab"), std::nullopt, local, at("203.0.113.7"));
  auto b = registry.peer_config(ike::Identity::fqdn("b.lab"), std::nullopt, local, at("203.0.113.7"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->name, "branch-a");
  EXPECT_EQ(b->name, "branch-b");
  EXPECT_EQ(a->ike_proposals, std::vector<ike::ProposalSpec>{ike_proposal("aes256-sha384-ecp384")});
  EXPECT_EQ(b->ike_proposals, std::vector<ike::ProposalSpec>{ike_proposal("aes128gcm16-prfsha256-x448")});
}

TEST_F(Registry, SingleAnyConnectionKeepsItsOwnConfig) {
  auto r = load_config_text(kHub, "hub.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok());
  auto p = build_profile(*r.config, r.config->connections.front(), 1);
  ASSERT_TRUE(p.has_value());
  ProfileRegistry one;
  one.assign({*p});
  EXPECT_EQ(one.ike_config(local, at("203.0.113.7")), (*p)->ike);
  EXPECT_EQ(one.ike_config(local, at("192.0.2.9")), (*p)->ike);
}

}  // namespace
}  // namespace natgate::gateway::core
