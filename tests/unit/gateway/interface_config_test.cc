// `interface: NAME` per connection (route-based VPN, configs/README.md "interface"): the names
// the loader accepts, what it refuses and where it says so, the if_ids the daemon gives the
// interfaces, and a reload that changes one.
#include <gtest/gtest.h>

#include "gateway/config/config_diff.h"
#include "gateway/config/config_loader.h"
#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

// Two site-to-site connections (selectors that do not overlap: the engine keeps one policy table
// for every interface); line numbers in the expectations refer to this text (1-based).
constexpr const char* kTwoSites = R"(daemon:
  dataplane: auto
secrets:
  office-b: { psk: "lab-secret-b" }
  office-c: { psk: "lab-secret-c" }
connections:
  office-b:
    local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }
    remote: { address: 198.51.100.20, id: gw-b.example.net, subnets: [10.2.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
    interface: vpn0
  office-c:
    local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }
    remote: { address: 198.51.100.30, id: gw-c.example.net, subnets: [10.3.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
    interface: vpn1
)";

std::string with(std::string_view from, std::string_view to, std::string text = kTwoSites) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

ConfigLoadResult load(const std::string& text) {
  return load_config_text(text, "sites.yaml", "/nonexistent");
}

std::vector<std::string> errors_of(const std::string& text) {
  auto r = load(text);
  EXPECT_FALSE(r.ok());
  return test::error_lines(r);
}

TEST(InterfaceConfig, EachConnectionGetsItsInterfaceAndAnIfIdInFileOrder) {
  auto r = load(kTwoSites);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(0).interface, "vpn0");
  EXPECT_EQ(r.config->connections.at(1).interface, "vpn1");
  const auto ids = route_interfaces(*r.config);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.at("vpn0"), 1u);
  EXPECT_EQ(ids.at("vpn1"), 2u);
}

TEST(InterfaceConfig, WithoutTheKeyAConnectionIsPolicyBased) {
  auto r = load(with("    interface: vpn1\n", ""));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_FALSE(r.config->connections.at(1).interface.has_value());
  EXPECT_EQ(route_interfaces(*r.config).size(), 1u);
}

TEST(InterfaceConfig, FifteenCharactersAreTheLimit) {
  ASSERT_TRUE(load(with("interface: vpn1", "interface: abcdefghijklmno")).ok());
  auto e = errors_of(with("interface: vpn1", "interface: abcdefghijklmnop"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("sites.yaml:20:16: connections.office-c.interface: \"abcdefghijklmnop\" is not an "
                       "interface name",
                       0),
            0u)
      << e[0];
}

TEST(InterfaceConfig, RefusesNamesTheKernelRefuses) {
  for (const char* bad : {"\"vpn/0\"", "\"vpn:0\"", "\"vpn 0\"", "\".\"", "\"..\"", "\"\""}) {
    auto e = errors_of(with("interface: vpn1", std::string("interface: ") + bad));
    ASSERT_EQ(e.size(), 1u) << bad;
    EXPECT_NE(e[0].find("sites.yaml:20:16: connections.office-c.interface: "), std::string::npos) << e[0];
    EXPECT_NE(e[0].find("is not an interface name"), std::string::npos) << e[0];
  }
}

TEST(InterfaceConfig, OneInterfacePerConnection) {
  auto e = errors_of(with("interface: vpn1", "interface: vpn0"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("sites.yaml:20:16: connections.office-c.interface: \"vpn0\" is connection "
                       "\"office-b\"'s interface already",
                       0),
            0u)
      << e[0];
}

TEST(InterfaceConfig, NotTheMainTun) {
  auto e = errors_of(with("interface: vpn1", "interface: natgate0"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(
      e[0].find("sites.yaml:20:16: connections.office-c.interface: \"natgate0\" is the engine's main TUN"),
      std::string::npos)
      << e[0];
  // Nor a renamed main TUN.
  e = errors_of(with("  dataplane: auto\n", "  dataplane: auto\n  tun: { name: vpn1 }\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("connections.office-c.interface: \"vpn1\" is the engine's main TUN"), std::string::npos)
      << e[0];
}

TEST(InterfaceConfig, TheKernelDataPlaneRefusesItForNow) {
  auto e = errors_of(with("dataplane: auto", "dataplane: kernel"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].rfind("sites.yaml:13:16: connections.office-b.interface: route-based connections need the "
                       "userspace data plane",
                       0),
            0u)
      << e[0];
  ASSERT_TRUE(load(with("dataplane: auto", "dataplane: userspace")).ok());
}

TEST(InterfaceConfig, NotOnAVirtualIpClient) {
  auto e = errors_of(
      with("local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }\n    remote: { address: 198.51.100.30",
           "local: { id: gw-a.example.net, vips: [0.0.0.0] }\n    remote: { address: 198.51.100.30"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("connections.office-c.interface: a virtual IP client puts its address on the main TUN"),
            std::string::npos)
      << e[0];
}

TEST(InterfaceConfig, NotAScalarIsRefused) {
  auto e = errors_of(with("interface: vpn1", "interface: [vpn1]"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("sites.yaml:20:16: connections.office-c.interface"), std::string::npos) << e[0];
}

TEST(InterfaceConfig, AReloadThatChangesItRestartsTheConnection) {
  auto before = load(kTwoSites);
  auto after = load(with("interface: vpn1", "interface: vpn2"));
  ASSERT_TRUE(before.ok() && after.ok());
  const ConfigDiff d = diff_configs(*before.config, *after.config);
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].name, "office-c");
  EXPECT_EQ(d.changed[0].fields, std::vector<std::string>{"interface"});
}

}  // namespace
}  // namespace natgate::gateway
