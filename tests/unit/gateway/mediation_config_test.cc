// `mediation: server` on a connection (docs/mediation.md, "natgated as mediation server"): what the
// loader accepts, what it refuses with file, line and key, and the profile it builds (no CHILD SA).
#include <gtest/gtest.h>

#include "gateway/config/config_loader.h"
#include "gateway/config/policy_overlap.h"
#include "gateway/core/connection_profile.h"

namespace natgate::gateway {
namespace {

constexpr const char* kServer = R"(daemon:
  control_socket: /run/natgate/test.sock
secrets:
  alice: { id: alice.example.net, psk: "alice-secret" }
  bob: { id: bob.example.net, psk: "bob-secret" }
connections:
  med:
    mediation: server
    local: { id: med.example.net }
    remote: { address: any, id: any }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
)";

std::string with(std::string text, std::string_view from, std::string_view to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(MediationConfig, AServerConnectionNeedsNoSubnetsNorEspProposals) {
  auto r = load_config_text(kServer, "med.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& med = r.config->connections.at(0);
  EXPECT_TRUE(med.mediation_server);
  EXPECT_EQ(med.start, StartAction::Listen);
  auto profile = core::build_profile(*r.config, med, 1);
  ASSERT_TRUE(profile) << profile.error();
  EXPECT_TRUE((*profile)->peer->mediation_server);
  EXPECT_TRUE((*profile)->peer->children.empty()) << "a mediation connection carries no CHILD SA";
}

TEST(MediationConfig, OtherConnectionsAreNoMediationServers) {
  auto r = load_config_text(with(kServer, "    mediation: server\n", ""), "med.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok()) << "without mediation: the subnets and ESP proposals are required again";
}

TEST(MediationConfig, AnUnknownRoleIsAnErrorWithFileLineAndKey) {
  auto r =
      load_config_text(with(kServer, "mediation: server", "mediation: peer"), "med.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(
      r.errors[0].to_string().find("med.yaml:8:16: connections.med.mediation: \"peer\" is not allowed here"),
      std::string::npos)
      << r.errors[0].to_string();
}

TEST(MediationConfig, AServerOnlyListens) {
  auto r = load_config_text(with(kServer, "    auth: psk\n", "    auth: psk\n    start: initiate\n"),
                            "med.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      format_diagnostics(r.errors).find("connections.med.start: mediation: server only answers its peers"),
      std::string::npos)
      << format_diagnostics(r.errors);
}

TEST(MediationConfig, AServerCarriesNoTrafficOfItsOwn) {
  auto r = load_config_text(
      with(with(kServer, "    auth: psk\n", "    auth: psk\n    esp_proposals: [aes256gcm16]\n"),
           "local: { id: med.example.net }", "local: { id: med.example.net, subnets: [10.1.0.0/24] }"),
      "med.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  const std::string errors = format_diagnostics(r.errors);
  EXPECT_NE(errors.find("connections.med.esp_proposals: mediation: server carries no CHILD SA"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("connections.med.mediation: mediation: server carries no traffic"), std::string::npos)
      << errors;
}

// A peer's side: its connection to the server (`mediation: client`) and a connection found through
// it (`mediation: { mediated_by, peer }`), as swanctl's mediation = yes, mediated_by, mediation_peer.
constexpr const char* kPeer = R"(secrets:
  med: { psk: "alice-secret" }
  bob: { psk: "alice-bob-secret" }
connections:
  med:
    mediation: client
    local: { id: alice.example.net }
    remote: { address: 198.51.100.1, id: med.example.net }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
  bob:
    mediation: { mediated_by: med, peer: bob.example.net }
    local: { id: alice.example.net, subnets: [10.1.0.0/24] }
    remote: { id: bob.example.net, subnets: [10.2.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    start: initiate
)";

TEST(MediationConfig, AClientConnectionInitiatesAndCarriesNoChild) {
  auto r = load_config_text(kPeer, "peer.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& med = r.config->connections.at(0);
  EXPECT_TRUE(med.mediation_client);
  EXPECT_FALSE(med.mediation_server);
  EXPECT_EQ(med.start, StartAction::Initiate);
  auto profile = core::build_profile(*r.config, med, 1);
  ASSERT_TRUE(profile) << profile.error();
  EXPECT_TRUE((*profile)->peer->mediation_client);
  EXPECT_TRUE((*profile)->peer->children.empty());
}

TEST(MediationConfig, AMediatedConnectionNamesItsServerConnectionAndPeer) {
  auto r = load_config_text(kPeer, "peer.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& bob = r.config->connections.at(1);
  ASSERT_TRUE(bob.mediated);
  EXPECT_EQ(bob.mediated->mediated_by, "med");
  EXPECT_EQ(bob.mediated->peer.text(), "bob.example.net");
  EXPECT_FALSE(bob.remote.address) << "no remote.address: the server tells where the peer is";
  auto profile = core::build_profile(*r.config, bob, 2);
  ASSERT_TRUE(profile) << profile.error();
  EXPECT_EQ((*profile)->peer->mediated_by, "med");
  ASSERT_TRUE((*profile)->peer->mediation_peer);
  EXPECT_EQ((*profile)->peer->mediation_peer->to_string(), "fqdn:bob.example.net");
  EXPECT_EQ((*profile)->peer->children.size(), 1u);
}

TEST(MediationConfig, ThePeerIdentityDefaultsToRemoteId) {
  auto r =
      load_config_text(with(kPeer, "{ mediated_by: med, peer: bob.example.net }", "{ mediated_by: med }"),
                       "peer.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(1).mediated->peer.text(), "bob.example.net");
}

TEST(MediationConfig, MediatedByMustNameAClientConnection) {
  auto r =
      load_config_text(with(kPeer, "mediated_by: med,", "mediated_by: nosuch,"), "peer.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(format_diagnostics(r.errors).find(
                "peer.yaml:12:31: connections.bob.mediation.mediated_by: no connection named \"nosuch\""),
            std::string::npos)
      << format_diagnostics(r.errors);

  auto plain =
      load_config_text(with(kPeer, "mediated_by: med,", "mediated_by: bob,"), "peer.yaml", "/nonexistent");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(format_diagnostics(plain.errors)
                .find("connections.bob.mediation.mediated_by: \"bob\" is no mediation "
                      "connection"),
            std::string::npos)
      << format_diagnostics(plain.errors);
}

TEST(MediationConfig, MediatedKeysAreCheckedWithFileLineAndKey) {
  auto missing = load_config_text(with(kPeer, "{ mediated_by: med, peer: bob.example.net }", "{ peer: x }"),
                                  "peer.yaml", "/nonexistent");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(format_diagnostics(missing.errors).find("connections.bob.mediation"), std::string::npos)
      << format_diagnostics(missing.errors);
  auto unknown = load_config_text(with(kPeer, "peer: bob.example.net }", "peer: bob.example.net, hub: yes }"),
                                  "peer.yaml", "/nonexistent");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(
      format_diagnostics(unknown.errors).find("peer.yaml:12:59: connections.bob.mediation.hub: unknown key"),
      std::string::npos)
      << format_diagnostics(unknown.errors);
  auto listen =
      load_config_text(with(kPeer, "    mediation: client\n", "    mediation: client\n    start: listen\n"),
                       "peer.yaml", "/nonexistent");
  ASSERT_FALSE(listen.ok());
  EXPECT_NE(format_diagnostics(listen.errors).find("connections.med.start: mediation: client connects"),
            std::string::npos)
      << format_diagnostics(listen.errors);
  auto no_id = load_config_text(
      with(with(kPeer, "{ mediated_by: med, peer: bob.example.net }", "{ mediated_by: med }"),
           "remote: { id: bob.example.net,", "remote: { id: any,"),
      "peer.yaml", "/nonexistent");
  ASSERT_FALSE(no_id.ok());
  EXPECT_NE(format_diagnostics(no_id.errors).find("the mediated peer needs one identity"), std::string::npos)
      << format_diagnostics(no_id.errors);
}

// `mediation.relay` (docs/design.md, "Mediation: relay fallback"): an ordinary connection to a
// relay hub with the same subnets, which only the fallback brings up.
constexpr const char* kRelay = R"(  hub:
    local: { id: alice.example.net, subnets: [10.1.0.0/24] }
    remote: { address: 198.51.100.1, id: hub.example.net, subnets: [10.2.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    start: listen
)";

std::string with_relay(std::string_view relay_value) {
  std::string text = with(std::string(kPeer) + kRelay, "peer: bob.example.net }",
                          "peer: bob.example.net, relay: " + std::string(relay_value) + " }");
  return with(text, "  bob: { psk: \"alice-bob-secret\" }\n",
              "  bob: { psk: \"alice-bob-secret\" }\n  hub: { psk: \"hub-secret\" }\n");
}

TEST(MediationConfig, ARelayIsAnOrdinaryConnectionCarriedIntoTheSettings) {
  auto text = with_relay("hub");
  auto r = load_config_text(text, "peer.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& bob = r.config->connections.at(1);
  ASSERT_TRUE(bob.mediated);
  EXPECT_EQ(bob.mediated->relay, "hub");
  auto profile = core::build_profile(*r.config, bob, 2);
  ASSERT_TRUE(profile) << profile.error();
  EXPECT_EQ((*profile)->settings->mediation_relay, "hub");
  // Same subnets on purpose: no overlap warning for the pair (there is one without `relay`).
  EXPECT_TRUE(policy_overlap_warnings(*r.config).empty());
  auto plain = load_config_text(with(text, ", relay: hub }", " }"), "peer.yaml", "/nonexistent");
  ASSERT_TRUE(plain.ok()) << format_diagnostics(plain.errors);
  EXPECT_EQ(policy_overlap_warnings(*plain.config).size(), 1u);
}

TEST(MediationConfig, ARelayMustBeAConnectionThatCanBeInitiated) {
  auto none = load_config_text(with_relay("nosuch"), "peer.yaml", "/nonexistent");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(format_diagnostics(none.errors)
                .find("peer.yaml:13:66: connections.bob.mediation.relay: no connection named \"nosuch\""),
            std::string::npos)
      << format_diagnostics(none.errors);
  auto med = load_config_text(with_relay("med"), "peer.yaml", "/nonexistent");
  ASSERT_FALSE(med.ok());
  EXPECT_NE(format_diagnostics(med.errors)
                .find("connections.bob.mediation.relay: \"med\" is a mediation connection"),
            std::string::npos)
      << format_diagnostics(med.errors);
  auto no_address =
      load_config_text(with(with_relay("hub"), "address: 198.51.100.1, id: hub", "address: any, id: hub"),
                       "peer.yaml", "/nonexistent");
  ASSERT_FALSE(no_address.ok());
  EXPECT_NE(format_diagnostics(no_address.errors)
                .find("connections.bob.mediation.relay: \"hub\" has no remote.address to initiate to"),
            std::string::npos)
      << format_diagnostics(no_address.errors);
}

}  // namespace
}  // namespace natgate::gateway
