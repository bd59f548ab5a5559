// Remote-access settings in natgated's config: pools, connections for any identity with a pool,
// keys of single identities, and the road warrior's vips/dns_file.
#include <gtest/gtest.h>

#include "gateway/config/config_loader.h"

namespace natgate::gateway {
namespace {

constexpr const char* kGateway = R"(daemon:
  control_socket: /run/natgate/test.sock
secrets:
  rw: { psk: "group-secret" }
  alice: { id: alice@example.net, psk: "alice-secret" }
pools:
  rw: { addresses: [10.99.0.0/24, "fd00:99::/120"], dns: [10.2.0.53] }
connections:
  rw:
    local: { id: vpn.example.net, subnets: [10.2.0.0/24] }
    remote: { address: any, id: any }
    pool: rw
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    start: listen
)";

constexpr const char* kClient = R"(daemon:
  control_socket: /run/natgate/test.sock
secrets:
  office: { psk: "alice-secret" }
connections:
  office:
    local: { id: alice@example.net, vips: [0.0.0.0], dns_file: /run/natgate/office-dns.conf }
    remote: { address: 198.51.100.20, id: vpn.example.net }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    start: initiate
)";

std::string with(std::string text, std::string_view from, std::string_view to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(RemoteAccessConfig, GatewayWithPoolAnyIdentityAndIdentityKeys) {
  auto r = load_config_text(kGateway, "gw.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << format_diagnostics(r.warnings);
  const Config& c = *r.config;
  ASSERT_EQ(c.pools.count("rw"), 1u);
  EXPECT_EQ(c.pools.at("rw").addresses.size(), 2u);
  EXPECT_EQ(c.pools.at("rw").dns, std::vector<IpAddress>{*IpAddress::parse("10.2.0.53")});
  const ConnectionConfig& rw = c.connections.at(0);
  EXPECT_TRUE(rw.remote.any_id);
  EXPECT_TRUE(rw.remote.subnets.empty()) << "a pool's clients are their virtual IPs";
  EXPECT_EQ(rw.pool, std::optional<std::string>("rw"));
  ASSERT_NE(c.psk_for_identity(*ConfiguredIdentity::parse("alice@example.net")), nullptr);
  EXPECT_EQ(c.psk_for_identity(*ConfiguredIdentity::parse("bob@example.net")), nullptr);
  EXPECT_EQ(c.psk_for("alice"), nullptr) << "an identity's key is no connection's key";
  ASSERT_NE(c.psk_for("rw"), nullptr);
}

TEST(RemoteAccessConfig, UnknownPoolIsAnErrorWithFileLineAndKey) {
  auto r = load_config_text(with(kGateway, "pool: rw", "pool: nope"), "gw.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            "gw.yaml:12:11: connections.rw.pool: no pool named \"nope\" (expected a name under pools:)");
}

TEST(RemoteAccessConfig, BadPoolRangeIsAnError) {
  auto r = load_config_text(with(kGateway, "10.99.0.0/24", "10.99.0.1/24"), "gw.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(format_diagnostics(r.errors).find("pools.rw.addresses[0]"), std::string::npos)
      << format_diagnostics(r.errors);
}

TEST(RemoteAccessConfig, AnyIdentityWithoutAnyKeyIsAnError) {
  std::string text = with(kGateway, "  rw: { psk: \"group-secret\" }\n", "");
  text = with(text, "  alice: { id: alice@example.net, psk: \"alice-secret\" }\n", "");
  text = with(text, "secrets:\n", "");
  auto r = load_config_text(text, "gw.yaml", "/nonexistent");
  EXPECT_FALSE(r.ok());
}

TEST(RemoteAccessConfig, ClientAsksForAVirtualIpWithoutSubnets) {
  auto r = load_config_text(kClient, "client.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& office = r.config->connections.at(0);
  EXPECT_EQ(office.local.vips, std::vector<IpAddress>{IpAddress::any(IpFamily::V4)});
  EXPECT_TRUE(office.local.subnets.empty());
  EXPECT_EQ(office.local.dns_file, std::optional<std::string>("/run/natgate/office-dns.conf"));
}

// local.dns (gateway/core/dns_setup.h): how the offered servers are applied.
TEST(RemoteAccessConfig, DnsMethodIsReadAndBadValuesAreRefusedWithTheirPlace) {
  auto r = load_config_text(kClient, "client.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_FALSE(r.config->connections.at(0).local.dns_via);  // only dns_file: the file, as before

  const std::string dns_file = "dns_file: /run/natgate/office-dns.conf";
  r = load_config_text(with(kClient, dns_file, dns_file + ", dns: auto"), "client.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(0).local.dns_via, DnsVia::Auto);
  r = load_config_text(with(kClient, dns_file, "dns: resolvconf"), "client.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(0).local.dns_via, DnsVia::Resolvconf);

  r = load_config_text(with(kClient, dns_file, "dns: systemd"), "client.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  std::string text = format_diagnostics(r.errors);
  EXPECT_NE(text.find("client.yaml:7:"), std::string::npos) << text;
  EXPECT_NE(text.find("connections.office.local.dns"), std::string::npos) << text;
  EXPECT_NE(text.find("not 'systemd'"), std::string::npos) << text;
  r = load_config_text(with(kClient, dns_file, "dns: file"), "client.yaml", "/nonexistent");
  ASSERT_FALSE(r.ok());
  text = format_diagnostics(r.errors);
  EXPECT_NE(text.find("dns: file needs local.dns_file"), std::string::npos) << text;
}

}  // namespace
}  // namespace natgate::gateway
