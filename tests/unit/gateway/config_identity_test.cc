// DN identities and remote identity patterns in the config (configured_identity.h; the matching
// itself is tested in tests/unit/ike/auth/identity_pattern_test.cc).
#include <gtest/gtest.h>

#include "gateway/config/config_loader.h"
#include "gateway/config/configured_identity.h"

namespace natgate::gateway {
namespace {

constexpr const char* kGateway = R"(daemon:
  control_socket: /run/natgate/test.sock
secrets:
  rw: { psk: "group-secret" }
pools:
  rw: { addresses: 10.99.0.0/24 }
connections:
  rw:
    local: { id: "CN=vpn.example.net, O=Example, C=CH", subnets: [10.2.0.0/24] }
    remote: { address: any, id: "*@example.net" }
    pool: rw
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
)";

std::string with(std::string_view from, std::string_view to, std::string text = kGateway) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::vector<std::string> lines(const std::vector<ConfigDiagnostic>& d) {
  std::vector<std::string> out;
  out.reserve(d.size());
  for (const auto& e : d) out.push_back(e.to_string());
  return out;
}

TEST(ConfiguredIdentity, DnIsParsedAsRfc4514AndSentAsDer) {
  auto id = ConfiguredIdentity::parse("CN=gw.example.net, O=Example, C=CH");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind(), ConfiguredIdentity::Kind::Dn);
  EXPECT_EQ(id->id_type(), iana::IdType::DerAsn1Dn);
  EXPECT_EQ(id->kind_name(), "dn");
  EXPECT_EQ(id->text(), "CN=gw.example.net, O=Example, C=CH");
  EXPECT_FALSE(id->is_wildcard());
  EXPECT_FALSE(id->dn_looks_reversed());
  const Bytes der = id->id_data();
  ASSERT_GT(der.size(), 2u);
  EXPECT_EQ(der[0], 0x30);  // SEQUENCE OF RDN
  // DER order is least specific first: the country comes before the common name.
  const std::string raw(der.begin(), der.end());
  EXPECT_LT(raw.find("CH"), raw.find("gw.example.net"));
  // The same name however it is spaced or typed.
  EXPECT_EQ(ConfiguredIdentity::parse("2.5.4.3=gw.example.net,o=Example ,  C=CH")->id_data(), der);

  std::string why;
  EXPECT_FALSE(ConfiguredIdentity::parse("CN=gw, QQ=x", &why));
  EXPECT_EQ(why.rfind("is not a DN: unknown attribute type \"QQ\"", 0), 0u) << why;
  EXPECT_TRUE(ConfiguredIdentity::parse("C=CH, O=Example, CN=gw")->dn_looks_reversed());
}

TEST(ConfiguredIdentity, PatternsAreMarkedAndMalformedOnesRefused) {
  auto fqdn = ConfiguredIdentity::parse("*.example.net");
  ASSERT_TRUE(fqdn);
  EXPECT_EQ(fqdn->kind(), ConfiguredIdentity::Kind::Fqdn);
  EXPECT_TRUE(fqdn->is_wildcard());
  auto email = ConfiguredIdentity::parse("*@example.net");
  ASSERT_TRUE(email);
  EXPECT_EQ(email->kind(), ConfiguredIdentity::Kind::Email);
  EXPECT_TRUE(email->is_wildcard());
  auto dn = ConfiguredIdentity::parse("CN=*, O=Example");
  ASSERT_TRUE(dn);
  EXPECT_TRUE(dn->is_wildcard());
  EXPECT_FALSE(ConfiguredIdentity::parse("gw.example.net")->is_wildcard());
  EXPECT_FALSE(ConfiguredIdentity::parse("alice@example.net")->is_wildcard());
  // Only a leading "*." or "*@" is a pattern; anything else with '*' in a name is refused.
  EXPECT_FALSE(ConfiguredIdentity::parse("*"));
  EXPECT_FALSE(ConfiguredIdentity::parse("*.*.example.net"));
  EXPECT_FALSE(ConfiguredIdentity::parse("gw.*.example.net"));
  EXPECT_FALSE(ConfiguredIdentity::parse("*example.net"));
  EXPECT_FALSE(ConfiguredIdentity::parse("*@"));
  // Embedded NULs never make an identity, whatever follows them.
  std::string why;
  EXPECT_FALSE(ConfiguredIdentity::parse(std::string_view("gw.example.net\0.evil", 20), &why));
  EXPECT_EQ(why, "holds a NUL character");
  EXPECT_FALSE(ConfiguredIdentity::parse(std::string_view("CN=a\0b", 6)));
}

TEST(ConfigIdentity, RemotePatternAndLocalDnLoad) {
  auto r = load_config_text(kGateway, "gw.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << format_diagnostics(r.warnings);
  const ConnectionConfig& rw = r.config->connections.at(0);
  EXPECT_EQ(rw.local.id.kind(), ConfiguredIdentity::Kind::Dn);
  EXPECT_TRUE(rw.remote.id.is_wildcard());
  EXPECT_FALSE(rw.remote.any_id);
  EXPECT_TRUE(rw.remote.accepts_many_ids());

  auto dn = load_config_text(with("\"*@example.net\"", "\"CN=*, O=Example\""), "gw.yaml", "/nonexistent");
  ASSERT_TRUE(dn.ok()) << format_diagnostics(dn.errors);
  EXPECT_TRUE(dn.config->connections.at(0).remote.accepts_many_ids());
}

TEST(ConfigIdentity, PatternsAreRefusedWhereOneIdentityIsNeeded) {
  auto local =
      load_config_text(with("\"CN=vpn.example.net, O=Example, C=CH\"", "\"*.example.net\""), "gw.yaml", "/x");
  EXPECT_EQ(lines(local.errors),
            std::vector<std::string>{
                "gw.yaml:9:18: connections.rw.local.id: \"*.example.net\" is a pattern (expected "
                "one identity here; '*' is for remote.id only)"});
  auto secret = load_config_text(
      with("rw: { psk: \"group-secret\" }", "rw: { id: \"*@example.net\", psk: x }"), "gw.yaml", "/x");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(
      lines(secret.errors).at(0),
      "gw.yaml:4:13: secrets.rw.id: \"*@example.net\" is a pattern (expected one identity here; '*' is for "
      "remote.id only)");
}

TEST(ConfigIdentity, BadOrReversedDnsAreReportedWithTheReason) {
  auto bad = load_config_text(with("O=Example, C=CH\"", "O=Example, C=CHE\""), "gw.yaml", "/x");
  EXPECT_EQ(
      lines(bad.errors),
      std::vector<std::string>{
          "gw.yaml:9:18: connections.rw.local.id: \"CN=vpn.example.net, O=Example, C=CHE\" is not a DN: "
          "\"CHE\" "
          "is not a valid value for C (too long, or characters that type does not allow) (expected an FQDN, "
          "IPv4/IPv6 address, email or DN like gw-a.example.net or \"CN=gw-a, O=Example\")"});
  auto reversed = load_config_text(
      with("CN=vpn.example.net, O=Example, C=CH", "C=CH, O=Example, CN=vpn.example.net"), "gw.yaml", "/x");
  ASSERT_TRUE(reversed.ok()) << format_diagnostics(reversed.errors);
  ASSERT_EQ(reversed.warnings.size(), 1u);
  EXPECT_EQ(reversed.warnings[0].path, "connections.rw.local.id");
  EXPECT_NE(reversed.warnings[0].message.find("most specific first (RFC 4514)"), std::string::npos);
}

}  // namespace
}  // namespace natgate::gateway
