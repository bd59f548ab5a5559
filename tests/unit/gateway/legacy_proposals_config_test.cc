// connections.NAME.legacy_proposals (issue 17): off by default; `windows-default` appends what
// Windows' built-in client offers unconfigured (after the connection's own proposals, each
// once) with a warning; anything else is an error naming file, line, column and key.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config_loader.h"
#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

ConfigLoadResult load(const std::string& extra) {
  return load_config_text(
      test::road_warrior_gateway("aes256gcm16-prfsha256-x25519, aes256-sha1-modp1024") + extra, "gw.yaml",
      "/nonexistent");
}

TEST(LegacyProposalsConfig, OffByDefault) {
  auto r = load("");
  ASSERT_TRUE(r.ok());
  const auto& c = r.config->connections.at(0);
  EXPECT_EQ(c.ike_proposals.size(), 2u);
  EXPECT_EQ(c.esp_proposals, std::vector<std::string>{"aes256gcm16"});
  EXPECT_TRUE(r.warnings.empty());
}

TEST(LegacyProposalsConfig, WindowsDefaultAppendsWindowsOffersOnceAndWarns) {
  auto r = load("    legacy_proposals: windows-default\n");
  ASSERT_TRUE(r.ok());
  const auto& c = r.config->connections.at(0);
  EXPECT_EQ(c.ike_proposals, (std::vector<std::string>{"aes256gcm16-prfsha256-x25519", "aes256-sha1-modp1024",
                                                       "aes256-sha256-modp1024", "aes256-sha384-modp1024"}));
  EXPECT_EQ(c.esp_proposals, (std::vector<std::string>{"aes256gcm16", "aes256-sha1", "aes128-sha1"}));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].to_string().find("gw.yaml:16:23: connections.rw.legacy_proposals: accepts Windows' "
                                           "default proposals"),
            std::string::npos)
      << r.warnings[0].to_string();
  auto none = load("    legacy_proposals: none\n");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.config->connections.at(0).esp_proposals.size(), 1u);
}

TEST(LegacyProposalsConfig, UnknownValueIsAnErrorWithItsPosition) {
  auto r = load("    legacy_proposals: windows-xp\n");
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].to_string().find("gw.yaml:16:23: connections.rw.legacy_proposals: \"windows-xp\""),
            std::string::npos)
      << r.errors[0].to_string();
}

}  // namespace
}  // namespace natgate::gateway
