// remote.address as a DNS name or a list (config.h RemoteConfig::hosts), and the resolver the
// daemon uses for it (gateway/io/host_resolver.h; only /etc/hosts' localhost is looked up).
#include <gtest/gtest.h>

#include "gateway/config/config_diff.h"
#include "gateway/config/config_loader.h"
#include "gateway/io/host_resolver.h"

namespace natgate::gateway {
namespace {

constexpr const char* kOffice = R"(secrets:
  office-b: { psk: "lab-secret" }
connections:
  office-b:
    local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }
    remote:
      address: ADDRESS
      id: gw-b.example.net
      subnets: [10.2.0.0/24]
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
    start: START
)";

ConfigLoadResult load(std::string_view address, std::string_view start = "initiate") {
  std::string text = kOffice;
  text.replace(text.find("ADDRESS"), 7, address);
  text.replace(text.find("START"), 5, start);
  return load_config_text(text, "office.yaml", "/nonexistent");
}

std::vector<std::string> errors(const ConfigLoadResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

TEST(RemoteAddress, ADnsNameIsKeptForResolutionAtEachInitiation) {
  auto r = load("office-b.dyn.example.net");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const RemoteConfig& remote = r.config->connections.at(0).remote;
  EXPECT_EQ(remote.hosts, std::vector<std::string>{"office-b.dyn.example.net"});
  EXPECT_FALSE(remote.address);
  EXPECT_TRUE(remote.has_peer_to_initiate_to());
}

TEST(RemoteAddress, AListOfNamesAndAddressesIsTriedInOrder) {
  auto r = load("[office-b.dyn.example.net, 198.51.100.20, \"2001:db8::20\"]");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(0).remote.hosts,
            (std::vector<std::string>{"office-b.dyn.example.net", "198.51.100.20", "2001:db8::20"}));
}

TEST(RemoteAddress, OneAddressStaysAFixedPeer) {
  auto r = load("198.51.100.20");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(0).remote.address, IpAddress::parse("198.51.100.20"));
  EXPECT_TRUE(r.config->connections.at(0).remote.hosts.empty());
}

TEST(RemoteAddress, BadEntriesAreNamedWithTheirPlace) {
  EXPECT_EQ(
      errors(load("[198.51.100.20, bad_name!, any]")),
      (std::vector<std::string>{
          "office.yaml:7:32: connections.office-b.remote.address[1]: \"bad_name!\" is not an IP address or "
          "DNS "
          "name (expected an IP address or DNS name like 198.51.100.20 or vpn.example.net; any stands alone)",
          "office.yaml:7:43: connections.office-b.remote.address[2]: \"any\" is not an IP address or DNS "
          "name "
          "(expected an IP address or DNS name like 198.51.100.20 or vpn.example.net; any stands alone)"}));
  EXPECT_EQ(
      errors(load("[]")),
      std::vector<std::string>{"office.yaml:7:16: connections.office-b.remote.address: is empty (expected at "
                               "least one of addresses or names)"});
  EXPECT_EQ(errors(load("office-b.dyn.example.net", "on-traffic")),
            std::vector<std::string>{
                "office.yaml:13:12: connections.office-b.start: start: on-traffic needs one fixed "
                "remote.address (expected an IP address, or start: initiate for a DNS name or a "
                "list)"});
  EXPECT_TRUE(load("any", "listen").ok());
  EXPECT_FALSE(load("any", "initiate").ok());
}

TEST(RemoteAddress, AReloadNoticesAChangedName) {
  auto before = load("office-b.dyn.example.net"), after = load("office-b.other.example.net");
  ASSERT_TRUE(before.ok() && after.ok());
  const ConfigDiff d = diff_configs(*before.config, *after.config);
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.summary().find("remote.address") != std::string::npos, true) << d.summary();
  EXPECT_EQ(after.config->connections.at(0).remote.address_text(), "office-b.other.example.net");
}

TEST(HostResolver, AnAddressIsItselfAndLocalhostResolves) {
  auto ip = resolve_host("192.0.2.7");
  ASSERT_TRUE(ip) << ip.error();
  EXPECT_EQ(*ip, std::vector<IpAddress>{*IpAddress::parse("192.0.2.7")});
  auto local = resolve_host("localhost");
  ASSERT_TRUE(local) << local.error();
  ASSERT_FALSE(local->empty());
  for (const auto& a : *local)
    EXPECT_TRUE(a == *IpAddress::parse("127.0.0.1") || a == *IpAddress::parse("::1"));
  EXPECT_FALSE(resolve_host("name.invalid"));  // RFC 2606 §2: never resolves
}

}  // namespace
}  // namespace natgate::gateway
