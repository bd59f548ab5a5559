// Identities as logs and `natgate status` show them: what the peer sent in IDi/IDr, escaped
// (common/log_escape.h), so a crafted ID cannot forge a journal line or drive a terminal.
#include <gtest/gtest.h>

#include "ike/exchange/identity.h"

namespace natgate::ike {
namespace {

TEST(IdentityText, PlainIdentitiesAreUnchanged) {
  EXPECT_EQ(Identity::fqdn("gw.example.net").to_string(), "fqdn:gw.example.net");
  EXPECT_EQ(Identity::email("carol@example.net").to_string(), "email:carol@example.net");
  EXPECT_EQ(Identity::address(*IpAddress::parse("192.0.2.1")).to_string(), "ipv4:192.0.2.1");
}

TEST(IdentityText, CraftedIdentitiesAreEscaped) {
  const std::string forged = "carol@example.net\nDec  6 12:00:00 gw natgated[1]: office: IKE SA established";
  const std::string shown = Identity::email(forged).to_string();
  EXPECT_EQ(shown.find('\n'), std::string::npos);
  EXPECT_EQ(shown, "email:carol@example.net\\x0aDec  6 12:00:00 gw natgated[1]: office: IKE SA established");
  EXPECT_EQ(Identity::fqdn("\x1b]0;pwned\x07\x1b[2J").to_string(), "fqdn:\\x1b]0;pwned\\x07\\x1b[2J");
  EXPECT_EQ(Identity::fqdn("a\\x0ab").to_string(), "fqdn:a\\\\x0ab");  // the text of an escape, not a newline
  EXPECT_EQ(Identity::fqdn("b\xc3\xbcro.example").to_string(), "fqdn:b\\xc3\\xbcro.example");
  EXPECT_EQ(Identity::fqdn(std::string_view("\0\r\x7f\xff", 4)).to_string(), "fqdn:\\x00\\x0d\\x7f\\xff");
  // Two different identities never print the same.
  EXPECT_NE(Identity::fqdn("a\\x0a").to_string(), Identity::fqdn("a\n").to_string());
}

}  // namespace
}  // namespace natgate::ike
