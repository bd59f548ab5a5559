#include "gateway/config/configured_identity.h"

#include <gtest/gtest.h>

namespace natgate::gateway {
namespace {

TEST(ConfiguredIdentity, FqdnIsTheDefault) {
  auto id = ConfiguredIdentity::parse("gw-a.example.net");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind(), ConfiguredIdentity::Kind::Fqdn);
  EXPECT_EQ(id->id_type(), iana::IdType::Fqdn);
  EXPECT_EQ(id->text(), "gw-a.example.net");
  EXPECT_EQ(id->id_data(), Bytes(id->text().begin(), id->text().end()));
}

TEST(ConfiguredIdentity, AddressesBecomeAddressIdentities) {
  auto v4 = ConfiguredIdentity::parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->kind(), ConfiguredIdentity::Kind::Ipv4);
  EXPECT_EQ(v4->id_type(), iana::IdType::Ipv4Addr);
  // RFC 7296 §3.5: ID_IPV4_ADDR data is the four-octet address.
  EXPECT_EQ(v4->id_data(), (Bytes{192, 0, 2, 1}));

  auto v6 = ConfiguredIdentity::parse("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->kind(), ConfiguredIdentity::Kind::Ipv6);
  EXPECT_EQ(v6->id_type(), iana::IdType::Ipv6Addr);
  EXPECT_EQ(v6->id_data().size(), 16u);
  EXPECT_EQ(v6->id_data()[0], 0x20);
  EXPECT_EQ(v6->id_data()[15], 0x01);
  EXPECT_EQ(v6->text(), "2001:db8::1");
}

TEST(ConfiguredIdentity, UserAtHostIsEmail) {
  auto id = ConfiguredIdentity::parse("alice.smith+vpn@example.net");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind(), ConfiguredIdentity::Kind::Email);
  EXPECT_EQ(id->id_type(), iana::IdType::Rfc822Addr);
  EXPECT_EQ(id->kind_name(), "email");
}

TEST(ConfiguredIdentity, AtPrefixForcesFqdn) {
  auto id = ConfiguredIdentity::parse("@vpn");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind(), ConfiguredIdentity::Kind::Fqdn);
  EXPECT_EQ(id->text(), "vpn");
  EXPECT_FALSE(ConfiguredIdentity::parse("@"));
  EXPECT_FALSE(ConfiguredIdentity::parse("@bad name"));
}

TEST(ConfiguredIdentity, RefusesWhatIsNone) {
  for (const char* bad : {"", "gw a.example.net", "-gw.example.net", "gw-.example.net", "gw..example.net",
                          "@alice@example.net", "alice@", "@", "alice@bad_host", ".alice@example.net",
                          "192.0.2.300", "10.1.0.0/24", "gw.example.net/x"}) {
    EXPECT_FALSE(ConfiguredIdentity::parse(bad).has_value()) << bad;
  }
}

TEST(ConfiguredIdentity, HostnameLimits) {
  EXPECT_TRUE(is_valid_hostname(std::string(63, 'a') + ".net"));
  EXPECT_FALSE(is_valid_hostname(std::string(64, 'a') + ".net"));
  std::string long_name;
  for (int i = 0; i < 50; ++i) long_name += "abcd.";
  long_name += "net";  // 253 characters
  EXPECT_EQ(long_name.size(), 253u);
  EXPECT_TRUE(is_valid_hostname(long_name));
  EXPECT_FALSE(is_valid_hostname("x" + long_name));
  EXPECT_TRUE(is_valid_hostname("example.net."));
}

}  // namespace
}  // namespace natgate::gateway
