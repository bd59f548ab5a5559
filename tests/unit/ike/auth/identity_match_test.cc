// IKE identities against certificates (RFC 7296 §3.5, RFC 4945).
#include "ike/auth/identity_match.h"

#include <gtest/gtest.h>

#include "pki_fixture.h"

namespace natgate::ike {
namespace {

using iana::IdType;
using testing::pki;

TEST(IdentityMatch, FqdnMatchesDnsSanIgnoringCase) {
  EXPECT_TRUE(match_identity(pki().gateway, IdType::Fqdn, as_bytes("gw.example.net")));
  EXPECT_TRUE(match_identity(pki().gateway, IdType::Fqdn, as_bytes("VPN.Example.NET")));
  EXPECT_TRUE(match_identity(pki().gateway, IdType::Fqdn, as_bytes("gw.example.net.")));
  auto st = match_identity(pki().gateway, IdType::Fqdn, as_bytes("other.example.net"));
  ASSERT_FALSE(st);
  EXPECT_EQ(
      st.error(),
      "no SAN matches ID fqdn:other.example.net (certificate C=CH, O=natgate, CN=gw.example.net has dNSName "
      "gw.example.net, vpn.example.net)");
  // The CN is not a SAN: client1's CN is "client1" but it has no dNSName.
  auto cn = match_identity(pki().client1, IdType::Fqdn, as_bytes("client1"));
  ASSERT_FALSE(cn);
  EXPECT_NE(cn.error().find("has no dNSName"), std::string::npos);
  // A name that is a suffix or prefix is not a match.
  EXPECT_FALSE(match_identity(pki().gateway, IdType::Fqdn, as_bytes("example.net")));
}

TEST(IdentityMatch, Rfc822MatchesEmailSan) {
  EXPECT_TRUE(match_identity(pki().client1, IdType::Rfc822Addr, as_bytes("client1@example.net")));
  EXPECT_TRUE(match_identity(pki().client1, IdType::Rfc822Addr, as_bytes("client1@EXAMPLE.net")));
  EXPECT_FALSE(match_identity(pki().client1, IdType::Rfc822Addr, as_bytes("Client1@example.net")));
  EXPECT_FALSE(match_identity(pki().gateway, IdType::Rfc822Addr, as_bytes("client1@example.net")));
}

TEST(IdentityMatch, IpAddressesMatchIpSan) {
  EXPECT_TRUE(match_identity(pki().gateway, IdType::Ipv4Addr, hex_bytes("c0000201")));
  EXPECT_TRUE(match_identity(pki().gateway, IdType::Ipv6Addr, hex_bytes("20010db8000000000000000000000001")));
  auto st = match_identity(pki().gateway, IdType::Ipv4Addr, hex_bytes("c0000202"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(),
            "no SAN matches ID ipv4:192.0.2.2 (certificate C=CH, O=natgate, CN=gw.example.net has iPAddress "
            "192.0.2.1, 2001:db8::1)");
  EXPECT_FALSE(match_identity(pki().gateway, IdType::Ipv4Addr, hex_bytes("c00002")));
  // An IPv4 ID never matches the IPv6 SAN and vice versa.
  EXPECT_FALSE(
      match_identity(pki().gateway, IdType::Ipv6Addr, hex_bytes("00000000000000000000ffffc0000201")));
}

TEST(IdentityMatch, DnMatchesTheSubjectAsAName) {
  const Bytes dn = testing::name_der("C=CH/O=natgate/CN=gw.example.net");
  EXPECT_EQ(dn, pki().gateway.subject_der());
  EXPECT_TRUE(match_identity(pki().gateway, IdInitiator{IdType::DerAsn1Dn, dn}));
  // Same RDNs in another order is another DER: no match.
  auto st =
      match_identity(pki().gateway, IdType::DerAsn1Dn, testing::name_der("CN=gw.example.net/O=natgate/C=CH"));
  ASSERT_FALSE(st);
  EXPECT_EQ(
      st.error(),
      "subject of certificate C=CH, O=natgate, CN=gw.example.net does not match ID dn:CN=gw.example.net, "
      "O=natgate, C=CH");
}

TEST(IdentityMatch, KeyIdCannotMatchACertificate) {
  auto st = match_identity(pki().gateway, IdType::KeyId, hex_bytes("0102"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "ID keyid:0102 cannot be matched against a certificate");
}

TEST(IdentityMatch, DescribeIdentity) {
  EXPECT_EQ(describe_identity(IdType::Fqdn, as_bytes("gw.example.net")), "fqdn:gw.example.net");
  EXPECT_EQ(describe_identity(IdType::Fqdn, hex_bytes("610a62")),
            "fqdn:a\\x0ab");  // control octets never printed
  // A forged log line, a terminal escape, a backslash and UTF-8, all escaped.
  EXPECT_EQ(describe_identity(IdType::Rfc822Addr, as_bytes("x\r\nnatgated: up\x1b[2J\\\xc3\xa9")),
            "rfc822:x\\x0d\\x0anatgated: up\\x1b[2J\\\\\\xc3\\xa9");
  EXPECT_EQ(describe_identity(IdType::Ipv6Addr, hex_bytes("20010db8000000000000000000000001")),
            "ipv6:2001:db8::1");
  EXPECT_EQ(describe_identity(IdType::DerAsn1Dn, hex_bytes("3001")), "dn:(malformed DN 3001)");
}

TEST(IdentityMatch, CertificateSubjectIsEscapedForLogs) {
  const PrivateKey key = PrivateKey::generate_ec(EcCurve::P256).value();
  const X509Certificate cert = testing::issue({"O=Caf\xc3\xa9 \\ Co/CN=evil\nnatgated: forged", 1,
                                               testing::day(2024, 1, 1), testing::day(2034, 1, 1), false, ""},
                                              key, nullptr, key);
  // UTF-8 becomes \xNN; OpenSSL has escaped the newline (RFC 2253 "\0A") and the backslash.
  EXPECT_EQ(cert.subject(), "O=Caf\\xc3\\xa9 \\\\ Co, CN=evil\\0Anatgated: forged");
}

}  // namespace
}  // namespace natgate::ike
