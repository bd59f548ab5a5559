// The responder picks the connection for a peer's identity (gateway/core/profile_registry): an
// exact remote.id beats a pattern, a pattern is matched by identity_matches and never by the
// peer's own '*'; the initiator side never sends a pattern as IDr (ike_auth.cc).
#include <gtest/gtest.h>

#include "gateway/config/config_loader.h"
#include "gateway/core/profile_registry.h"
#include "ike/auth/distinguished_name.h"

namespace natgate::gateway::core {
namespace {

constexpr const char* kUsers = R"(
secrets:
  alice: { psk: "alice-key-0123456789abcdef" }
  users: { psk: "users-key-0123456789abcdef" }
  staff: { psk: "staff-key-0123456789abcdef" }
  hosts: { psk: "hosts-key-0123456789abcdef" }
connections:
  alice:
    local: { id: vpn.example.net, subnets: [10.0.0.0/24] }
    remote: { address: any, id: alice@example.net, subnets: [10.1.0.0/24] }
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    auth: psk
  users:
    local: { id: vpn.example.net, subnets: [10.0.0.0/24] }
    remote: { address: any, id: "*@example.net", subnets: [10.2.0.0/24] }
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    auth: psk
  staff:
    local: { id: vpn.example.net, subnets: [10.0.0.0/24] }
    remote: { address: any, id: "CN=*, O=Example", subnets: [10.3.0.0/24] }
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    auth: psk
  hosts:
    local: { id: vpn.example.net, subnets: [10.0.0.0/24] }
    remote: { address: any, id: "*.hosts.example.net", subnets: [10.4.0.0/24] }
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    auth: psk
)";

class PatternRegistry : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = load_config_text(kUsers, "users.yaml", "/nonexistent");
    ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
    std::vector<std::shared_ptr<const ConnectionProfile>> profiles;
    std::uint32_t reqid = 1;
    for (const auto& c : r.config->connections) {
      auto p = build_profile(*r.config, c, reqid++);
      ASSERT_TRUE(p.has_value()) << p.error();
      profiles.push_back(*p);
    }
    registry.assign(profiles);
  }
  std::string pick(const ike::Identity& id) const {
    const Endpoint local{*IpAddress::parse("198.51.100.1"), 500},
        remote{*IpAddress::parse("203.0.113.7"), 500};
    auto peer = registry.peer_config(id, std::nullopt, local, remote);
    return peer ? peer->name : "(none)";
  }
  static ike::Identity dn(std::string_view text) {
    return {iana::IdType::DerAsn1Dn, *ike::dn_from_text(text)};
  }
  ProfileRegistry registry;
};

TEST_F(PatternRegistry, ExactBeatsPatternAndPatternsSelectTheirPeers) {
  EXPECT_EQ(pick(ike::Identity::email("alice@example.net")), "alice");
  EXPECT_EQ(pick(ike::Identity::email("bob@example.net")), "users");
  EXPECT_EQ(pick(ike::Identity::email("bob@EXAMPLE.NET")), "users");
  EXPECT_EQ(pick(ike::Identity::email("bob@evil.net")), "(none)");
  EXPECT_EQ(pick(dn("CN=carol, O=Example")), "staff");
  EXPECT_EQ(pick(dn("CN=carol, O=Other")), "(none)");
  EXPECT_EQ(pick(ike::Identity::fqdn("pc1.hosts.example.net")), "hosts");
  EXPECT_EQ(pick(ike::Identity::fqdn("hosts.example.net")), "(none)");
}

TEST_F(PatternRegistry, APeerSendingAStarGetsNoMoreThanItsLiteralIdentity) {
  // "*@example.net" from the network is a user named "*": the pattern connection, never alice's.
  EXPECT_EQ(pick(ike::Identity::email("*@example.net")), "users");
  EXPECT_EQ(pick(ike::Identity::fqdn("*.example.net")), "(none)");
  EXPECT_EQ(pick(ike::Identity::fqdn(std::string_view("pc1.hosts.example.net\0", 22))), "(none)");
}

TEST_F(PatternRegistry, PatternConnectionsHoldOneIkeSaPerPeer) {
  // Many peers share a pattern connection: each peer's SAs are its own, as for `id: any`.
  auto users = registry.find("users");
  ASSERT_NE(users, nullptr);
  EXPECT_TRUE(connection_settings(*users)->any_remote_id);
  EXPECT_FALSE(connection_settings(*registry.find("alice"))->any_remote_id);
}

}  // namespace
}  // namespace natgate::gateway::core
