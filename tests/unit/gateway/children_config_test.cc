// `children:` per connection and `updown:` (configs/README.md, "children", "updown"): what the
// loader accepts, what it refuses and where it says so, and the ike/ child configs a profile
// gets from them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gateway/config/config_loader.h"
#include "gateway/core/connection_profile.h"
#include "gateway/core/updown.h"
#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Line numbers in the expectations refer to this text (1-based).
constexpr const char* kTwoChildren = R"(secrets:
  office: { psk: "lab-secret" }
connections:
  office:
    local: { id: gw-a.example.net }
    remote: { address: 198.51.100.20, id: gw-b.example.net }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    start: initiate
    lifetimes: { child: 2h }
    children:
      lan-a:
        local_subnets: [10.1.0.0/24]
        remote_subnets: [10.2.0.0/24]
        esp_proposals: [aes256gcm16]
      lan-b:
        local_subnets: [10.11.0.0/24]
        remote_subnets: [10.12.0.0/24, 10.13.0.0/24]
        esp_proposals: [aes128gcm16]
        mode: tunnel
        start: initiate
        close: none
        lifetime: 30m
)";

std::string with(std::string_view from, std::string_view to, std::string text = kTwoChildren) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

ConfigLoadResult load(const std::string& text, const ConfigLoadOptions& options = {}) {
  return load_config_text(text, "office.yaml", "/nonexistent", options);
}

std::vector<std::string> errors_of(const std::string& text, const ConfigLoadOptions& options = {}) {
  auto r = load(text, options);
  EXPECT_FALSE(r.ok());
  return test::error_lines(r);
}

Subnet net(const char* text) { return *Subnet::parse(text); }

TEST(Children, TwoChildrenAreReadInFileOrderWithTheirOwnSettings) {
  auto r = load(kTwoChildren);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& c = r.config->connections.at(0);
  ASSERT_EQ(c.children.size(), 2u);
  EXPECT_TRUE(c.explicit_children);
  EXPECT_EQ(c.children[0].name, "lan-a");
  EXPECT_EQ(c.children[0].local_subnets, std::vector<Subnet>{net("10.1.0.0/24")});
  EXPECT_EQ(c.children[0].esp_proposals, std::vector<std::string>{"aes256gcm16"});
  EXPECT_EQ(c.children[0].lifetime, 2h) << "lifetimes.child is the default";
  EXPECT_EQ(c.children[1].name, "lan-b");
  EXPECT_EQ(c.children[1].remote_subnets, (std::vector<Subnet>{net("10.12.0.0/24"), net("10.13.0.0/24")}));
  EXPECT_EQ(c.children[1].lifetime, 30min);
  EXPECT_EQ(c.children[1].start, StartAction::Initiate);
  EXPECT_TRUE(c.esp_proposals.empty());
  // The connection-level subnets are the union (for messages and the split-tunnel list).
  EXPECT_EQ(c.local.subnets, (std::vector<Subnet>{net("10.1.0.0/24"), net("10.11.0.0/24")}));
}

TEST(Children, TheConnectionLevelFormIsOneImplicitChildNamedAfterTheConnection) {
  auto r = load(
      with(R"(    children:
      lan-a:
        local_subnets: [10.1.0.0/24]
        remote_subnets: [10.2.0.0/24]
        esp_proposals: [aes256gcm16]
      lan-b:
        local_subnets: [10.11.0.0/24]
        remote_subnets: [10.12.0.0/24, 10.13.0.0/24]
        esp_proposals: [aes128gcm16]
        mode: tunnel
        start: initiate
        close: none
        lifetime: 30m
)",
           "    esp_proposals: [aes256gcm16]\n",
           with("local: { id: gw-a.example.net }", "local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }",
                with("id: gw-b.example.net }", "id: gw-b.example.net, subnets: [10.2.0.0/24] }"))));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& c = r.config->connections.at(0);
  EXPECT_FALSE(c.explicit_children);
  ASSERT_EQ(c.children.size(), 1u);
  EXPECT_EQ(c.children[0].name, "office");
  EXPECT_EQ(c.children[0].local_subnets, std::vector<Subnet>{net("10.1.0.0/24")});
  EXPECT_EQ(c.children[0].remote_subnets, std::vector<Subnet>{net("10.2.0.0/24")});
  EXPECT_EQ(c.children[0].esp_proposals, std::vector<std::string>{"aes256gcm16"});
  EXPECT_EQ(c.children[0].start, StartAction::Initiate);
  EXPECT_EQ(c.children[0].lifetime, 2h);
}

TEST(Children, BothFormsAtOnceAreRefusedWhereTheConnectionLevelKeysAre) {
  auto e = errors_of(with(
      "    start: initiate\n", "    start: initiate\n    esp_proposals: [aes256gcm16]\n",
      with("local: { id: gw-a.example.net }", "local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }")));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].rfind("office.yaml:5:45: connections.office.local.subnets: local.subnets is set and so is "
                       "children (expected one form",
                       0),
            0u)
      << e[0];
  EXPECT_EQ(e[1].rfind("office.yaml:10:20: connections.office.esp_proposals: esp_proposals is set and so is "
                       "children",
                       0),
            0u)
      << e[1];
}

TEST(Children, UnknownKeysAndBadValuesAreRefusedWithTheirPosition) {
  auto e = errors_of(with("        close: none\n", "        close: none\n        colour: blue\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("office.yaml:23:9: connections.office.children.lan-b.colour: unknown key", 0), 0u)
      << e[0];

  e = errors_of(with("        remote_subnets: [10.2.0.0/24]\n", ""));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0].rfind(
          "office.yaml:13:9: connections.office.children.lan-a.remote_subnets: required key is missing", 0),
      0u)
      << e[0];

  e = errors_of(with("lifetime: 30m", "lifetime: 5s"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0].rfind("office.yaml:23:19: connections.office.children.lan-b.lifetime: \"5s\" is too short", 0), 0u)
      << e[0];

  e = errors_of(with("esp_proposals: [aes128gcm16]", "esp_proposals: [aes128gcm16-nonsense]"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("office.yaml:19:25: connections.office.children.lan-b.esp_proposals[0]:", 0), 0u)
      << e[0];

  e = errors_of(with("      lan-b:", "      lan b:"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("is not a child name"), std::string::npos) << e[0];
}

TEST(Children, WhatTheDataPlanesCannotDoIsRefusedWithTheReason) {
  auto e = errors_of(with("mode: tunnel", "mode: transport"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("office.yaml:20:15: connections.office.children.lan-b.mode: mode: transport is not "
                       "supported yet: the userspace data plane implements tunnel mode only",
                       0),
            0u)
      << e[0];

  e = errors_of(with("close: none", "close: hold"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("office.yaml:22:16: connections.office.children.lan-b.close: close: hold is not "
                       "supported yet",
                       0),
            0u)
      << e[0];

  e = errors_of(with("        start: initiate\n", "        start: listen\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0].rfind("office.yaml:21:16: connections.office.children.lan-b.start: start: listen differs from "
                 "the connection's start: initiate",
                 0),
      0u)
      << e[0];

  e = errors_of(
      with("    start: initiate\n", "    start: on-traffic\n", with("        start: initiate\n", "")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("start: on-traffic is supported for one child only"), std::string::npos) << e[0];
}

TEST(Children, AChildsStartIsTheConnectionsWhenTheConnectionSetsNone) {
  auto r = load(with("    start: initiate\n", ""));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const ConnectionConfig& c = r.config->connections.at(0);
  EXPECT_EQ(c.start, StartAction::Initiate);
  EXPECT_EQ(c.children[0].start, StartAction::Initiate) << "an earlier child takes a later child's start";
}

TEST(Children, TheProfileHasOneIkeChildConfigPerChild) {
  auto r = load(kTwoChildren);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  auto p = core::build_profile(*r.config, r.config->connections.at(0), 7);
  ASSERT_TRUE(p) << p.error();
  const auto& children = (*p)->peer->children;
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].name, "lan-a");
  EXPECT_EQ(children[0].local_ts,
            std::vector<TrafficSelector>{TrafficSelector::from_subnet(net("10.1.0.0/24"))});
  EXPECT_EQ(children[1].name, "lan-b");
  EXPECT_EQ(children[1].remote_ts.size(), 2u);
  EXPECT_EQ((*p)->settings->lifetime_of_child("lan-b"), std::chrono::seconds(1800));
  EXPECT_EQ((*p)->settings->lifetime_of_child("lan-a"), std::chrono::seconds(7200));
}

TEST(Children, CloseRestartReachesTheEndpointForThatChildOnly) {
  auto r = load(with("close: none", "close: restart"));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(0).children.at(1).close, CloseAction::Restart);
  auto p = core::build_profile(*r.config, r.config->connections.at(0), 7);
  ASSERT_TRUE(p) << p.error();
  EXPECT_TRUE((*p)->settings->restarts_on_close("lan-b"));
  EXPECT_FALSE((*p)->settings->restarts_on_close("lan-a"));
}

// ---- updown ----------------------------------------------------------------------------------

class Updown : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("natgate-updown-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    script_ = (dir_ / "updown.sh").string();
    std::ofstream(script_) << "#!/bin/sh\n";
    ::chmod(script_.c_str(), 0755);
    options_.updown_owner = ::getuid();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string config_with(const std::string& path) {
    return with("    start: initiate\n", "    start: initiate\n    updown: " + path + "\n");
  }
  fs::path dir_;
  std::string script_;
  ConfigLoadOptions options_;
};

TEST_F(Updown, AnOwnedScriptNobodyElseCanWriteIsAccepted) {
  auto r = load(config_with(script_), options_);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->connections.at(0).updown, script_);
}

TEST_F(Updown, ARelativeOrLooseScriptIsRefusedSayingWhy) {
  auto e = errors_of(config_with("updown.sh"), options_);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0].rfind("office.yaml:10:13: connections.office.updown: \"updown.sh\" is not an absolute path", 0),
      0u)
      << e[0];

  ::chmod(script_.c_str(), 0775);
  e = errors_of(config_with(script_), options_);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("is writable by its group or by others"), std::string::npos) << e[0];
  EXPECT_NE(e[0].find("natgated runs it as root"), std::string::npos) << e[0];

  ::chmod(script_.c_str(), 0755);
  options_.updown_owner = ::getuid() + 1;
  e = errors_of(config_with(script_), options_);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("is not owned by"), std::string::npos) << e[0];

  options_.updown_owner = ::getuid();
  e = errors_of(config_with((dir_ / "missing.sh").string()), options_);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("No such file"), std::string::npos) << e[0];
}

TEST(UpdownEnvironment, NamesTheChildItsAddressesAndSubnets) {
  core::UpdownChild c;
  c.connection = "office";
  c.child = "lan-b";
  c.remote_id = "gw-b.example.net";
  c.local = Endpoint{*IpAddress::parse("192.0.2.1"), 500};
  c.remote = Endpoint{*IpAddress::parse("198.51.100.20"), 4500};
  c.local_ts = {TrafficSelector::from_subnet(net("10.11.0.0/24"))};
  c.remote_ts = {TrafficSelector::from_subnet(net("10.12.0.0/24")),
                 TrafficSelector::from_subnet(net("10.13.0.0/24"))};
  c.interface = "natgate0";
  c.spi_in = 0xc0ffee01;
  auto env = core::updown_environment("up-client", c);
  std::map<std::string, std::string> m(env.begin(), env.end());
  EXPECT_EQ(m.at("NATGATE_VERB"), "up-client");
  EXPECT_EQ(m.at("NATGATE_CONNECTION"), "office");
  EXPECT_EQ(m.at("NATGATE_CHILD"), "lan-b");
  EXPECT_EQ(m.at("NATGATE_LOCAL_ADDR"), "192.0.2.1");
  EXPECT_EQ(m.at("NATGATE_REMOTE_ADDR"), "198.51.100.20");
  EXPECT_EQ(m.at("NATGATE_LOCAL_SUBNETS"), "10.11.0.0/24");
  EXPECT_EQ(m.at("NATGATE_REMOTE_SUBNETS"), "10.12.0.0/24 10.13.0.0/24");
  EXPECT_EQ(m.at("NATGATE_VIRTUAL_IP"), "");
  EXPECT_EQ(m.at("NATGATE_INTERFACE"), "natgate0");
  EXPECT_EQ(m.at("NATGATE_SPI_IN"), "0xc0ffee01");
  EXPECT_EQ(m.count("HOME"), 0u) << "nothing of the daemon's own environment";
}

}  // namespace
}  // namespace natgate::gateway
