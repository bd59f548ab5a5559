// DN identities from RFC 4514 text and configured identity patterns (distinguished_name.h,
// identity_match.h): what matches, and what a hostile peer cannot make match.
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <memory>

#include "ike/auth/distinguished_name.h"
#include "ike/auth/identity_match.h"
#include "pki_fixture.h"

namespace natgate::ike {
namespace {

using iana::IdType;
using testing::pki;

Bytes dn(std::string_view text) {
  auto der = dn_from_text(text);
  EXPECT_TRUE(der) << text << ": " << (der ? "" : der.error());
  return der ? *der : Bytes{};
}

std::string dn_error(std::string_view text) {
  auto der = dn_from_text(text);
  EXPECT_FALSE(der) << text;
  return der ? std::string() : der.error();
}

// A DER Name with one CN of arbitrary bytes (a NUL, say) under O=natgate, C=CH, built with
// OpenSSL directly as a peer would send it.
Bytes name_with_raw_cn(std::string_view cn) {
  std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)> name(X509_NAME_new(), &X509_NAME_free);
  X509_NAME_add_entry_by_txt(name.get(), "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("CH"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("natgate"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name.get(), "CN", V_ASN1_UTF8STRING,
                             reinterpret_cast<const unsigned char*>(cn.data()), static_cast<int>(cn.size()),
                             -1, 0);
  int n = i2d_X509_NAME(name.get(), nullptr);
  Bytes der(static_cast<std::size_t>(n));
  unsigned char* p = der.data();
  i2d_X509_NAME(name.get(), &p);
  return der;
}

bool fqdn(std::string_view configured, std::string_view peer) {
  return identity_matches(IdType::Fqdn, as_bytes(configured), IdType::Fqdn, as_bytes(peer));
}
bool email(std::string_view configured, std::string_view peer) {
  return identity_matches(IdType::Rfc822Addr, as_bytes(configured), IdType::Rfc822Addr, as_bytes(peer));
}
bool dn_id(std::string_view configured, ByteView peer) {
  return identity_matches(IdType::DerAsn1Dn, dn(configured), IdType::DerAsn1Dn, peer);
}

TEST(DistinguishedName, Rfc4514TextIsMostSpecificFirstAndMatchesTheCertificateSubject) {
  // The certificate's subject in DER order is C=CH, O=natgate, CN=gw.example.net.
  const Bytes id = dn("CN=gw.example.net, O=natgate, C=CH");
  EXPECT_TRUE(match_identity(pki().gateway, IdType::DerAsn1Dn, id));
  auto rdns = dn_decode(id);
  ASSERT_TRUE(rdns);
  ASSERT_EQ(rdns->size(), 3u);
  EXPECT_EQ((*rdns)[0][0].oid, "2.5.4.6");
  EXPECT_EQ((*rdns)[0][0].value, "CH");
  EXPECT_EQ((*rdns)[2][0].oid, "2.5.4.3");
  // Case, spaces and the numeric form of the type do not matter; the order does.
  EXPECT_TRUE(
      match_identity(pki().gateway, IdType::DerAsn1Dn, dn("2.5.4.3=GW.Example.NET,o=  natgate ,  c=ch")));
  EXPECT_FALSE(match_identity(pki().gateway, IdType::DerAsn1Dn, dn("C=CH, O=natgate, CN=gw.example.net")));
  EXPECT_FALSE(match_identity(pki().gateway, IdType::DerAsn1Dn, dn("CN=gw.example.net, O=natgate")));
  EXPECT_FALSE(match_identity(pki().gateway, IdType::DerAsn1Dn, dn("CN=gw.example.net, O=natgate, C=DE")));
}

TEST(DistinguishedName, EscapesAndMultiValuedRdns) {
  auto rdns = dn_decode(dn(R"(CN=Smith\, John\2b\20, O=A\+B\=C\\ , OU=  x  )"));
  ASSERT_TRUE(rdns);
  ASSERT_EQ(rdns->size(), 3u);
  EXPECT_EQ((*rdns)[0][0].value, "x");
  EXPECT_EQ((*rdns)[1][0].value, "A+B=C\\");
  EXPECT_EQ((*rdns)[2][0].value, "Smith, John+ ");  // an escaped trailing space is kept
  // One RDN with two attributes: a set, equal in either order.
  auto multi = dn_decode(dn("CN=alice+UID=a1, O=Example"));
  ASSERT_TRUE(multi);
  ASSERT_EQ(multi->size(), 2u);
  EXPECT_EQ((*multi)[1].size(), 2u);
  EXPECT_TRUE(dn_matches(dn("CN=alice+UID=a1, O=Example"), dn("UID=a1+CN=alice, O=Example"), false));
  EXPECT_FALSE(dn_matches(dn("CN=alice+UID=a1, O=Example"), dn("CN=alice, UID=a1, O=Example"), false));
}

TEST(DistinguishedName, BadTextIsRefusedWithAReason) {
  EXPECT_EQ(dn_error("CN=gw, XY=1"),
            "unknown attribute type \"XY\" (expected CN, C, L, ST, O, OU, STREET, DC, UID, E, serialNumber, "
            "SN, GN, "
            "T, or an OID)");
  EXPECT_EQ(dn_error("CN=gw, O"), "\"O\" has no '=' (expected TYPE=value, like CN=gw.example.net)");
  EXPECT_EQ(dn_error("CN=, O=x"), "\"CN=\" has an empty value");
  EXPECT_EQ(dn_error("CN=a\\00b"), "a DN value may not hold NUL");
  EXPECT_EQ(dn_error("CN=a\"b\""), "'\"' must be escaped with '\\' in a DN value");
  EXPECT_EQ(dn_error("CN=a;O=b"), "';' must be escaped with '\\' in a DN value");
  EXPECT_EQ(dn_error("CN=#0403616263"),
            "hex-encoded values (#...) are not supported (expected the value as text)");
  EXPECT_EQ(dn_error("CN=\\q"), "'\\q' is not an escape (expected \\, \\+ \\\" or two hex digits)");
  EXPECT_EQ(dn_error("CN=\\ff"), "a DN value is not UTF-8");
  EXPECT_EQ(dn_error("C=CHE"),
            "\"CHE\" is not a valid value for C (too long, or characters that type does not allow)");
  EXPECT_EQ(dn_error("1.2..3=x"), "\"1.2..3\" is not an OID");
}

TEST(IdentityPattern, DnWildcardValueMatchesAnyValueInThatPlaceOnly) {
  const Bytes subject = pki().gateway.subject_der();
  EXPECT_TRUE(dn_id("CN=*, O=natgate, C=CH", subject));
  EXPECT_TRUE(dn_id("CN=*, O=NATGATE, C=ch", subject));
  EXPECT_FALSE(dn_id("CN=*, O=Other, C=CH", subject));
  EXPECT_FALSE(dn_id("CN=*, C=CH", subject));                   // RDN count differs
  EXPECT_FALSE(dn_id("CN=*, OU=*, O=natgate, C=CH", subject));  // one more RDN
  EXPECT_FALSE(dn_id("UID=*, O=natgate, C=CH", subject));       // another attribute type
  EXPECT_TRUE(identity_has_wildcard(IdType::DerAsn1Dn, dn("CN=*, O=natgate, C=CH")));
  EXPECT_FALSE(identity_has_wildcard(IdType::DerAsn1Dn, dn("CN=gw, O=natgate, C=CH")));
}

TEST(IdentityPattern, AWildcardInThePeersOwnIdentityWidensNothing) {
  // The peer sends "CN=*": it is a literal asterisk, not a pattern.
  const Bytes star = name_with_raw_cn("*");
  EXPECT_FALSE(dn_id("CN=alice, O=natgate, C=CH", star));
  EXPECT_FALSE(match_identity(pki().gateway, IdType::DerAsn1Dn, star));  // the certificate is gw's, not "*"'s
  EXPECT_FALSE(email("alice@example.net", "*@example.net"));
  EXPECT_FALSE(fqdn("gw.example.net", "*.example.net"));
  EXPECT_FALSE(fqdn("gw.example.net", "*"));
  // A configured pattern accepts a literal '*' only as the value it stands for (the certificate or
  // key still has to prove that identity).
  EXPECT_TRUE(dn_id("CN=*, O=natgate, C=CH", star));
}

TEST(IdentityPattern, NulAndControlBytesInThePeersIdentityNeverMatch) {
  EXPECT_FALSE(dn_id("CN=*, O=natgate, C=CH", name_with_raw_cn(std::string_view("gw\0evil", 7))));
  EXPECT_FALSE(dn_id("CN=*, O=natgate, C=CH", name_with_raw_cn("gw\nevil")));
  EXPECT_FALSE(dn_id("CN=gw, O=natgate, C=CH", name_with_raw_cn(std::string_view("gw\0", 3))));
  EXPECT_FALSE(fqdn("*.example.net", std::string_view("evil.com\0.example.net", 21)));
  EXPECT_FALSE(fqdn("*.example.net", std::string_view("gw.example.net\0", 15)));
  EXPECT_FALSE(email("*@example.net", std::string_view("a\0@example.net", 14)));
  EXPECT_FALSE(email("alice@example.net", std::string_view("alice@example.net\0", 18)));
  EXPECT_FALSE(dn_id("CN=*, O=natgate, C=CH", hex_bytes("3000ff")));  // not DER
}

TEST(IdentityPattern, FqdnPatternMatchesNamesBelowTheDomainIgnoringCase) {
  EXPECT_TRUE(fqdn("*.example.net", "gw.example.net"));
  EXPECT_TRUE(fqdn("*.example.net", "a.b.example.net"));
  EXPECT_TRUE(fqdn("*.example.net", "GW.EXAMPLE.NET"));
  EXPECT_TRUE(fqdn("*.example.net", "gw.example.net."));
  EXPECT_FALSE(fqdn("*.example.net", "example.net"));
  EXPECT_FALSE(fqdn("*.example.net", ".example.net"));
  EXPECT_FALSE(fqdn("*.example.net", "evilexample.net"));
  EXPECT_FALSE(fqdn("*.example.net", "gw.example.net.evil.com"));
  EXPECT_FALSE(fqdn("*.example.net", "a..example.net"));
  // Exact names compare ignoring case too; types must agree.
  EXPECT_TRUE(fqdn("gw.example.net", "GW.example.net"));
  EXPECT_FALSE(identity_matches(IdType::Fqdn, as_bytes("*.example.net"), IdType::Rfc822Addr,
                                as_bytes("gw.example.net")));
  EXPECT_TRUE(identity_has_wildcard(IdType::Fqdn, as_bytes("*.example.net")));
  EXPECT_FALSE(identity_has_wildcard(IdType::Fqdn, as_bytes("gw.example.net")));
}

TEST(IdentityPattern, EmailPatternMatchesAnyUserOfTheDomain) {
  EXPECT_TRUE(email("*@example.net", "alice@example.net"));
  EXPECT_TRUE(email("*@example.net", "Bob@EXAMPLE.net"));
  EXPECT_FALSE(email("*@example.net", "@example.net"));
  EXPECT_FALSE(email("*@example.net", "alice@sub.example.net"));
  EXPECT_FALSE(email("*@example.net", "alice@example.net.evil"));
  EXPECT_FALSE(email("*@example.net", "a@b@example.net"));
  EXPECT_FALSE(email("*@example.net", "example.net"));
  // Exact addresses: the local part is case-sensitive (RFC 5321 §2.4), the domain is not.
  EXPECT_TRUE(email("alice@example.net", "alice@Example.NET"));
  EXPECT_FALSE(email("alice@example.net", "Alice@example.net"));
  EXPECT_TRUE(identity_has_wildcard(IdType::Rfc822Addr, as_bytes("*@example.net")));
}

TEST(IdentityPattern, AddressesAndKeyIdsCompareOctetForOctet) {
  EXPECT_TRUE(
      identity_matches(IdType::Ipv4Addr, hex_bytes("c0000201"), IdType::Ipv4Addr, hex_bytes("c0000201")));
  EXPECT_FALSE(
      identity_matches(IdType::Ipv4Addr, hex_bytes("c0000201"), IdType::Ipv4Addr, hex_bytes("c0000202")));
  EXPECT_FALSE(identity_matches(IdType::KeyId, hex_bytes("2a"), IdType::KeyId, hex_bytes("2a00")));
}

}  // namespace
}  // namespace natgate::ike
