// `mediation: server` on a connection (docs/mediation.md, "natgated as mediation server"): what the
// loader accepts, what it refuses with file, line and key, and the profile it builds (no CHILD SA).
#include <gtest/gtest.h>

#include "gateway/config/config_loader.h"
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

}  // namespace
}  // namespace natgate::gateway
