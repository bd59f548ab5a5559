// Chain verification against a trust store (RFC 5280 §6 via OpenSSL), with CRLs and an injected time.
#include "ike/auth/trust_store.h"

#include <gtest/gtest.h>

#include "pki_fixture.h"

namespace natgate::ike {
namespace {

using testing::day;
using testing::pki;

TrustStore root_store() {
  TrustStore s;
  EXPECT_TRUE(s.add_ca(pki().root));
  return s;
}

TEST(TrustStore, VerifiesLeafThroughIntermediateToRoot) {
  const TrustStore store = root_store();
  auto path = store.verify(pki().gateway, {pki().inter}, day(2025, 3, 1));
  ASSERT_TRUE(path) << path.error();
  ASSERT_EQ(path->size(), 3u);
  EXPECT_EQ((*path)[0], pki().gateway);
  EXPECT_EQ((*path)[1], pki().inter);
  EXPECT_EQ((*path)[2], pki().root);
}

TEST(TrustStore, MissingIntermediateNamesTheIssuer) {
  auto path = root_store().verify(pki().gateway, {}, day(2025, 3, 1));
  ASSERT_FALSE(path);
  EXPECT_EQ(
      path.error(),
      "certificate for C=CH, O=natgate, CN=gw.example.net: issuer C=CH, O=natgate, CN=Intermediate CA is not "
      "trusted (no such CA, and the peer sent no intermediate for it)");
}

TEST(TrustStore, ExpiredAndNotYetValidUseTheInjectedTime) {
  const TrustStore store = root_store();
  auto expired = store.verify(pki().client1, {pki().inter}, day(2026, 3, 1));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error(), "certificate for C=CH, O=natgate, CN=client1 expired 2026-01-01");
  EXPECT_TRUE(store.verify(pki().client1, {pki().inter}, day(2025, 12, 31)));
  auto early = store.verify(pki().client1, {pki().inter}, day(2024, 5, 1));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error(), "certificate for C=CH, O=natgate, CN=client1 is not valid before 2024-06-01");
}

TEST(TrustStore, UntrustedRootAndSelfSignedAreRefused) {
  auto other_key = PrivateKey::generate_ec(EcCurve::P256).value();
  auto other_root = testing::issue({"CN=Other CA", 9, day(2024, 1, 1), day(2040, 1, 1), true, ""}, other_key,
                                   nullptr, other_key);
  TrustStore other;
  ASSERT_TRUE(other.add_ca(other_root));
  auto r = other.verify(pki().gateway, {pki().inter}, day(2025, 3, 1));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("CN=Root CA"), std::string::npos) << r.error();

  auto self = testing::issue({"CN=selfie", 3, day(2024, 1, 1), day(2030, 1, 1), false, "DNS:selfie"},
                             other_key, nullptr, other_key);
  auto s = root_store().verify(self, {}, day(2025, 3, 1));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "certificate for CN=selfie is self-signed and not a trusted CA");
  TrustStore empty;
  EXPECT_FALSE(empty.verify(pki().gateway, {pki().inter}, day(2025, 3, 1)));
}

TEST(TrustStore, RevokedByCrlFileIsNamed) {
  testing::ScratchDir dir;
  dir.write("crl.pem", testing::make_crl_pem(pki().inter, pki().inter_key, {0x1002, 0x77}));
  TrustStore store = root_store();
  ASSERT_TRUE(store.add_crl_file(dir.file("crl.pem")));
  EXPECT_EQ(store.crl_count(), 1u);
  auto r = store.verify(pki().client1, {pki().inter}, day(2025, 3, 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "certificate for C=CH, O=natgate, CN=client1 (serial 1002) revoked by crl.pem");
  // A certificate the CRL does not list still verifies.
  EXPECT_TRUE(store.verify(pki().gateway, {pki().inter}, day(2025, 3, 1)));
}

TEST(TrustStore, CrlCheckingNeedsTheIssuersCrl) {
  // A CRL from the root only: the gateway's issuer (the intermediate) has none, and with CRL
  // checking on that is an error, not a silent pass.
  TrustStore store = root_store();
  const std::string pem = testing::make_crl_pem(pki().root, pki().root_key, {});
  ASSERT_TRUE(store.add_crl(as_bytes(pem), "root.crl"));
  auto r = store.verify(pki().gateway, {pki().inter}, day(2025, 3, 1));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("no CRL from C=CH, O=natgate, CN=Intermediate CA"), std::string::npos)
      << r.error();
}

TEST(TrustStore, WholeChainCrlCheckCatchesARevokedIntermediate) {
  TrustStore store = root_store();
  ASSERT_TRUE(store.add_crl(as_bytes(testing::make_crl_pem(pki().root, pki().root_key, {2})), "root.crl"));
  ASSERT_TRUE(store.add_crl(as_bytes(testing::make_crl_pem(pki().inter, pki().inter_key, {})), "inter.crl"));
  EXPECT_TRUE(store.verify(pki().gateway, {pki().inter}, day(2025, 3, 1)));  // leaf only by default
  store.set_check_whole_chain(true);
  auto r = store.verify(pki().gateway, {pki().inter}, day(2025, 3, 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "certificate for C=CH, O=natgate, CN=Intermediate CA (serial 02) revoked by root.crl");
}

TEST(TrustStore, RejectsNonCaAnchorAndGarbageCrl) {
  TrustStore store;
  auto st = store.add_ca(pki().gateway);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "certificate for C=CH, O=natgate, CN=gw.example.net is not a CA certificate");
  EXPECT_FALSE(store.add_crl(hex_bytes("3003020101"), "junk.crl"));
}

TEST(TrustStore, LoadsCaFileAndHashesKeys) {
  testing::ScratchDir dir;
  dir.write("cas.pem", testing::cert_pem(pki().root) + testing::cert_pem(pki().inter));
  TrustStore store;
  ASSERT_TRUE(store.add_ca_file(dir.file("cas.pem")));
  EXPECT_EQ(store.cas().size(), 2u);
  const auto hashes = store.ca_key_hashes();
  ASSERT_EQ(hashes.size(), 2u);
  EXPECT_EQ(hashes[0], pki().root.public_key_info_sha1());
  EXPECT_FALSE(store.add_ca_file(dir.file("missing.pem")));
}

// Issue 12 item 9: RFC 4945 §5.1.3.2 keyUsage and §5.1.3.12 extendedKeyUsage of the peer's
// certificate, and the key sizes of every certificate on the path.
struct UsageCase {
  const char* key_usage;
  const char* eku;
  bool accepted;
};

TEST(TrustStore, EndEntityKeyUsageAndExtendedKeyUsage) {
  const auto& p = pki();
  const UsageCase cases[] = {
      {"", "", true},
      {"critical,digitalSignature", "", true},
      {"critical,digitalSignature,keyEncipherment", "serverAuth,clientAuth,1.3.6.1.5.5.8.2.2", true},
      {"nonRepudiation", "", true},
      {"critical,keyEncipherment", "", false},
      {"critical,keyAgreement", "", false},
      {"", "1.3.6.1.5.5.7.3.17", true},  // id-kp-ipsecIKE
      {"", "anyExtendedKeyUsage", true},
      {"", "serverAuth", true},
      {"", "clientAuth", true},
      {"", "1.3.6.1.5.5.8.2.2", true},  // iKEIntermediate
      {"", "codeSigning", false},
      {"", "emailProtection,timeStamping", false},
      {"critical,digitalSignature", "codeSigning,serverAuth", true},
  };
  long serial = 0x2000;
  for (const auto& c : cases) {
    const X509Certificate leaf = testing::issue({"C=CH/O=natgate/CN=usage", ++serial, day(2024, 6, 1),
                                                 day(2030, 1, 1), false, "DNS:usage.example.net"},
                                                p.leaf_key, &p.inter, p.inter_key, {c.key_usage, c.eku});
    auto path = root_store().verify(leaf, {p.inter}, day(2025, 3, 1));
    EXPECT_EQ(static_cast<bool>(path), c.accepted)
        << "keyUsage " << c.key_usage << ", EKU " << c.eku << ": " << (path ? "accepted" : path.error());
  }
  const X509Certificate ku =
      testing::issue({"C=CH/O=natgate/CN=ku", 0x2100, day(2024, 6, 1), day(2030, 1, 1), false, ""},
                     p.leaf_key, &p.inter, p.inter_key, {"critical,keyEncipherment", ""});
  EXPECT_EQ(root_store().verify(ku, {p.inter}, day(2025, 3, 1)).error(),
            "certificate for C=CH, O=natgate, CN=ku has a keyUsage without digitalSignature or "
            "nonRepudiation (RFC 4945 §5.1.3.2): "
            "it may not sign AUTH");
  const X509Certificate eku =
      testing::issue({"C=CH/O=natgate/CN=eku", 0x2101, day(2024, 6, 1), day(2030, 1, 1), false, ""},
                     p.leaf_key, &p.inter, p.inter_key, {"", "codeSigning"});
  EXPECT_EQ(
      root_store().verify(eku, {p.inter}, day(2025, 3, 1)).error(),
      "certificate for C=CH, O=natgate, CN=eku has an extendedKeyUsage (1.3.6.1.5.5.7.3.3) without ipsecIKE, "
      "serverAuth, clientAuth, iKEIntermediate or anyExtendedKeyUsage (RFC 4945 §5.1.3.12)");
}

TEST(TrustStore, WeakKeysOnThePathAndWeakAnchorsAreRefused) {
  const auto& p = pki();
  const PrivateKey rsa1024 = PrivateKey::generate_rsa(1024).value();
  // A leaf with a 1024-bit RSA key, issued by the good intermediate.
  const X509Certificate weak_leaf = testing::issue(
      {"C=CH/O=natgate/CN=weak", 0x3001, day(2024, 6, 1), day(2030, 1, 1), false, "DNS:weak.example.net"},
      rsa1024, &p.inter, p.inter_key);
  auto path = root_store().verify(weak_leaf, {p.inter}, day(2025, 3, 1));
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error(),
            "certificate for C=CH, O=natgate, CN=weak: key RSA-1024 is below the minimum of 2048 bits");
  // An intermediate with a weak key above a good leaf.
  const X509Certificate weak_inter = testing::issue(
      {"C=CH/O=natgate/CN=Weak Intermediate", 0x3002, day(2024, 1, 1), day(2038, 1, 1), true, ""}, rsa1024,
      &p.root, p.root_key);
  const X509Certificate leaf = testing::issue(
      {"C=CH/O=natgate/CN=below-weak", 0x3003, day(2024, 6, 1), day(2030, 1, 1), false, "DNS:b.example.net"},
      p.leaf_key, &weak_inter, rsa1024);
  path = root_store().verify(leaf, {weak_inter}, day(2025, 3, 1));
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error(),
            "certificate for C=CH, O=natgate, CN=Weak Intermediate: key RSA-1024 is below the minimum of "
            "2048 bits");
  // A weak trust anchor is refused when it is configured.
  const X509Certificate weak_root =
      testing::issue({"C=CH/O=natgate/CN=Weak Root", 1, day(2024, 1, 1), day(2040, 1, 1), true, ""}, rsa1024,
                     nullptr, rsa1024);
  TrustStore s;
  auto added = s.add_ca(weak_root);
  ASSERT_FALSE(added);
  EXPECT_EQ(
      added.error(),
      "CA certificate for C=CH, O=natgate, CN=Weak Root: key RSA-1024 is below the minimum of 2048 bits");
  // RSA-2048, P-256 and Ed25519 pass.
  EXPECT_TRUE(check_key_strength(KeyType::Rsa, 2048));
  EXPECT_TRUE(check_key_strength(KeyType::Ecdsa, 256));
  EXPECT_TRUE(check_key_strength(KeyType::Ed25519, 256));
  EXPECT_FALSE(check_key_strength(KeyType::Ecdsa, 224));
}

}  // namespace
}  // namespace natgate::ike
