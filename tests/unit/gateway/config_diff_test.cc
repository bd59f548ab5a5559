#include "gateway/config/config_diff.h"

#include <gtest/gtest.h>

#include "gateway/config/config_loader.h"

namespace natgate::gateway {
namespace {

std::string conn(const std::string& name, const std::string& local_net, const std::string& extra = "") {
  return "  " + name + ":\n" + "    local: { id: gw-a.example.net, subnets: [" + local_net + "] }\n" +
         "    remote: { address: 198.51.100.20, id: gw-b.example.net, subnets: [10.2.0.0/24] }\n" +
         "    auth: psk\n" + "    ike_proposals: [aes256gcm16-prfsha384-x25519]\n" +
         "    esp_proposals: [aes256gcm16]\n" + extra;
}

Config parse(const std::string& secrets, const std::string& connections, const std::string& daemon = "") {
  std::string text = daemon + "secrets:\n" + secrets + "connections:\n" + connections;
  ConfigLoadOptions options;
  options.validate_proposal = check_proposal_syntax;
  auto r = load_config_text(text, "test.yaml", "/", options);
  EXPECT_TRUE(r.ok()) << format_diagnostics(r.errors) << text;
  return r.ok() ? *r.config : Config{};
}

const std::string kSecrets = "  a: { psk: one }\n  b: { psk: two }\n  c: { psk: three }\n";

TEST(ConfigDiff, IdenticalConfigsChangeNothing) {
  Config before = parse(kSecrets, conn("a", "10.1.0.0/24") + conn("b", "10.3.0.0/24"));
  Config after = parse(kSecrets, conn("a", "10.1.0.0/24") + conn("b", "10.3.0.0/24"));
  ConfigDiff d = diff_configs(before, after);
  EXPECT_FALSE(d.connections_changed());
  EXPECT_EQ(d.unchanged, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(d.daemon_changes.empty());
  EXPECT_EQ(d.summary(), "unchanged: 2");
}

TEST(ConfigDiff, SortsConnectionsIntoAddedRemovedChangedUnchanged) {
  Config before = parse(kSecrets, conn("a", "10.1.0.0/24") + conn("b", "10.3.0.0/24"));
  Config after = parse(kSecrets, conn("b", "10.4.0.0/24", "    dpd: 10s\n") + conn("c", "10.5.0.0/24") +
                                     conn("a", "10.1.0.0/24"));
  ConfigDiff d = diff_configs(before, after);
  EXPECT_EQ(d.added, std::vector<std::string>{"c"});
  EXPECT_TRUE(d.removed.empty());
  EXPECT_EQ(d.changed, (std::vector<ConnectionChange>{{"b", {"local.subnets", "dpd"}}}));
  EXPECT_EQ(d.unchanged, std::vector<std::string>{"a"});
  EXPECT_TRUE(d.connections_changed());
  EXPECT_EQ(d.summary(), "added: c; changed: b (local.subnets, dpd); unchanged: 1");

  ConfigDiff back = diff_configs(after, before);
  EXPECT_EQ(back.removed, std::vector<std::string>{"c"});
  EXPECT_TRUE(back.added.empty());
}

TEST(ConfigDiff, ANewKeyChangesTheConnectionWithoutSayingWhatItIs) {
  Config before = parse(kSecrets, conn("a", "10.1.0.0/24"));
  Config after = parse("  a: { psk: rotated }\n", conn("a", "10.1.0.0/24"));
  ConfigDiff d = diff_configs(before, after);
  EXPECT_EQ(d.changed, (std::vector<ConnectionChange>{{"a", {"psk"}}}));
  EXPECT_EQ(d.summary().find("rotated"), std::string::npos);
  EXPECT_EQ(d.summary().find("one"), std::string::npos);
}

TEST(ConfigDiff, EveryConnectionSettingIsCompared) {
  const std::string base = conn("a", "10.1.0.0/24");
  struct Case {
    std::string from, to, field;
  };
  const std::vector<Case> cases = {
      {"id: gw-a.example.net", "id: gw-x.example.net", "local.id"},
      {"address: 198.51.100.20", "address: 198.51.100.21", "remote.address"},
      {"address: 198.51.100.20,", "address: 198.51.100.20, port: 4500,", "remote.port"},
      {"id: gw-b.example.net", "id: 198.51.100.20", "remote.id"},
      {"[10.2.0.0/24]", "[10.2.0.0/24, 10.9.0.0/16]", "remote.subnets"},
      {"[aes256gcm16-prfsha384-x25519]", "[aes128gcm16-prfsha256-x25519]", "ike_proposals"},
      {"[aes256gcm16]", "[chacha20poly1305]", "esp_proposals"},
      {"esp_proposals: [aes256gcm16]\n", "esp_proposals: [aes256gcm16]\n    start: initiate\n", "start"},
      {"esp_proposals: [aes256gcm16]\n", "esp_proposals: [aes256gcm16]\n    lifetimes: { ike: 8h }\n",
       "lifetimes.ike"},
      {"esp_proposals: [aes256gcm16]\n", "esp_proposals: [aes256gcm16]\n    lifetimes: { child: 2h }\n",
       "lifetimes.child"},
      {"esp_proposals: [aes256gcm16]\n", "esp_proposals: [aes256gcm16]\n    natt: { keepalive: 5s }\n",
       "natt.keepalive"},
      {"esp_proposals: [aes256gcm16]\n", "esp_proposals: [aes256gcm16]\n    natt: { force_encap: true }\n",
       "natt.force_encap"},
  };
  Config before = parse(kSecrets, base);
  for (const auto& c : cases) {
    std::string changed = base;
    auto at = changed.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    changed.replace(at, c.from.size(), c.to);
    ConfigDiff d = diff_configs(before, parse(kSecrets, changed));
    EXPECT_EQ(d.changed, (std::vector<ConnectionChange>{{"a", {c.field}}})) << c.field;
  }
}

TEST(ConfigDiff, DaemonSettingsAreListed) {
  Config before = parse(kSecrets, conn("a", "10.1.0.0/24"), "daemon: { log_level: info }\n");
  Config after = parse(kSecrets, conn("a", "10.1.0.0/24"),
                       "daemon: { log_level: debug, natt_port: 4501, tun: { mtu: 1400 } }\n");
  ConfigDiff d = diff_configs(before, after);
  EXPECT_EQ(d.daemon_changes, (std::vector<std::string>{"natt_port", "log_level", "tun.mtu"}));
  EXPECT_FALSE(d.connections_changed());
  EXPECT_EQ(d.summary(), "unchanged: 1; daemon settings changed: natt_port, log_level, tun.mtu");
}

}  // namespace
}  // namespace natgate::gateway
