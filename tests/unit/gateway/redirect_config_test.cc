// connections.NAME.redirect (issue 19, RFC 5685): `{ to: [addresses], policy }` loads into the
// connection and into its IKE_SA_INIT config (a Redirector); mistakes are errors naming file,
// line, column and key.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config_loader.h"
#include "gateway/core/connection_profile.h"
#include "ike/exchange/redirect.h"
#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

ConfigLoadResult load(const std::string& extra) {
  return load_config_text(test::road_warrior_gateway() + extra, "gw.yaml", "/nonexistent");
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(RedirectConfig, AbsentMeansNoRedirect) {
  auto r = load("");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->connections.at(0).redirect);
  auto profile = core::build_profile(*r.config, r.config->connections.at(0), 1);
  ASSERT_TRUE(profile) << profile.error();
  EXPECT_EQ((*profile)->ike->redirect, nullptr);
}

TEST(RedirectConfig, TargetsAndPolicyReachTheIkeConfig) {
  auto r = load("    redirect: { to: [198.51.100.21, 198.51.100.22], policy: least-redirected }\n");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  const auto& c = r.config->connections.at(0);
  ASSERT_TRUE(c.redirect);
  EXPECT_EQ(c.redirect->to, (std::vector<IpAddress>{ip("198.51.100.21"), ip("198.51.100.22")}));
  EXPECT_EQ(c.redirect->policy, RedirectPolicyKind::LeastRedirected);
  auto profile = core::build_profile(*r.config, c, 1);
  ASSERT_TRUE(profile) << profile.error();
  const auto& redirector = (*profile)->ike->redirect;
  ASSERT_TRUE(redirector);
  EXPECT_EQ(redirector->targets(), c.redirect->to);
  EXPECT_EQ(redirector->policy(), ike::RedirectPolicy::LeastRedirected);
  // Default policy; one address without a list.
  auto one = load("    redirect: { to: 2001:db8::21 }\n");
  ASSERT_TRUE(one.ok()) << (one.errors.empty() ? "" : one.errors[0].to_string());
  EXPECT_EQ(one.config->connections.at(0).redirect->policy, RedirectPolicyKind::RoundRobin);
  EXPECT_EQ(one.config->connections.at(0).redirect->to, std::vector<IpAddress>{ip("2001:db8::21")});
}

TEST(RedirectConfig, MistakesAreErrorsWithFileLineAndKey) {
  auto bad_address = test::error_lines(load("    redirect: { to: [198.51.100.21, member-2] }\n"));
  ASSERT_EQ(bad_address.size(), 1u);
  EXPECT_EQ(bad_address[0].rfind("gw.yaml:16:37: connections.rw.redirect.to[1]: ", 0), 0u) << bad_address[0];

  auto empty = test::error_lines(load("    redirect: { to: [] }\n"));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].rfind("gw.yaml:16:21: connections.rw.redirect.to: is empty", 0), 0u) << empty[0];

  auto policy = test::error_lines(load("    redirect: { to: [198.51.100.21], policy: random }\n"));
  ASSERT_EQ(policy.size(), 1u);
  EXPECT_EQ(policy[0].rfind("gw.yaml:16:46: connections.rw.redirect.policy: ", 0), 0u) << policy[0];
  EXPECT_NE(policy[0].find("round-robin"), std::string::npos) << policy[0];

  auto missing = test::error_lines(load("    redirect: { policy: round-robin }\n"));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("connections.rw.redirect.to: required key is missing"), std::string::npos)
      << missing[0];

  auto unknown = test::error_lines(load("    redirect: { to: [198.51.100.21], targets: [198.51.100.22] }\n"));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_NE(unknown[0].find("connections.rw.redirect.targets: unknown key"), std::string::npos) << unknown[0];
}

}  // namespace
}  // namespace natgate::gateway
