// CERTREQ hashes and CERT selection (RFC 7296 §3.6, §3.7), and X509Certificate accessors.
#include "ike/auth/cert_payloads.h"

#include <gtest/gtest.h>

#include "pki_fixture.h"

namespace natgate::ike {
namespace {

using testing::pki;

// The SHA-1 of the SubjectPublicKeyInfo, computed by the openssl tool from the PEM certificate.
std::string cli_spki_sha1(const X509Certificate& cert) {
  testing::ScratchDir dir;
  dir.write("c.pem", testing::cert_pem(cert));
  const std::string cmd = "openssl x509 -in " + dir.file("c.pem") +
                          " -pubkey -noout | openssl pkey -pubin -outform DER" +
                          " | openssl dgst -sha1 -r > " + dir.file("h.txt");
  EXPECT_EQ(testing::run(cmd), 0);
  const Bytes out = dir.read("h.txt");
  return std::string(out.begin(), out.begin() + std::min<std::size_t>(40, out.size()));
}

TEST(X509Certificate, Accessors) {
  const X509Certificate& gw = pki().gateway;
  EXPECT_EQ(gw.subject(), "C=CH, O=natgate, CN=gw.example.net");
  EXPECT_EQ(gw.issuer(), "C=CH, O=natgate, CN=Intermediate CA");
  EXPECT_EQ(gw.serial_hex(), "1001");
  EXPECT_EQ(format_date(gw.not_after()), "2030-01-01");
  EXPECT_FALSE(gw.is_ca());
  EXPECT_TRUE(pki().inter.is_ca());
  EXPECT_TRUE(pki().root.is_self_signed());
  EXPECT_FALSE(pki().inter.is_self_signed());
  EXPECT_EQ(gw.dns_names(), (std::vector<std::string>{"gw.example.net", "vpn.example.net"}));
  EXPECT_EQ(gw.ip_addresses().size(), 2u);
  EXPECT_TRUE(gw.signed_by(pki().inter));
  EXPECT_FALSE(gw.signed_by(pki().root));
  auto key = gw.public_key();
  ASSERT_TRUE(key);
  EXPECT_EQ(key->describe(), "ECDSA P-256");
  EXPECT_EQ(key->spki_der(), gw.public_key_info_der());
  auto again = X509Certificate::from_der(gw.der());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, gw);
  Bytes trailing = gw.der();
  trailing.push_back(0);
  EXPECT_FALSE(X509Certificate::from_der(trailing));
  EXPECT_FALSE(X509Certificate::from_pem("not a certificate"));
}

TEST(CertificateRequest, CarriesSha1OfEachCaSubjectPublicKeyInfo) {
  TrustStore store;
  ASSERT_TRUE(store.add_ca(pki().root));
  ASSERT_TRUE(store.add_ca(pki().inter));
  const CertificateRequest req = make_certificate_request(store);
  EXPECT_EQ(req.encoding, iana::CertEncoding::X509Signature);
  ASSERT_EQ(req.data.size(), 40u);
  EXPECT_EQ(to_hex(ByteView(req.data).first(20)), cli_spki_sha1(pki().root));
  EXPECT_EQ(to_hex(ByteView(req.data).subspan(20)), cli_spki_sha1(pki().inter));
}

TEST(CertificateRequest, ParsesHashesAcrossPayloads) {
  const CertificateRequest a{iana::CertEncoding::X509Signature, Bytes(40, 0xaa)};
  CertificateRequest b{iana::CertEncoding::X509Signature, Bytes(20, 0xbb)};
  const CertificateRequest other{static_cast<iana::CertEncoding>(12), Bytes(7, 1)};  // Hash and URL: skipped
  auto hashes = requested_ca_hashes({&a, &other, &b});
  ASSERT_TRUE(hashes) << hashes.error();
  ASSERT_EQ(hashes->size(), 2u);  // duplicates collapse
  EXPECT_EQ((*hashes)[1], Bytes(20, 0xbb));
  b.data.push_back(0);
  auto bad = requested_ca_hashes({&b});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "CERTREQ: 21 octets of CA hashes is not a multiple of 20");
}

TEST(CertificateSelection, SendsChainUpToTheRequestedCa) {
  const CertificateChain ours{pki().gateway, {pki().inter, pki().root}};
  auto der_of = [](const std::vector<Certificate>& v) {
    std::vector<Bytes> out;
    for (const auto& c : v) {
      EXPECT_EQ(c.encoding, iana::CertEncoding::X509Signature);
      out.push_back(c.data);
    }
    return out;
  };
  // The peer trusts the root: send end entity and intermediate.
  EXPECT_EQ(der_of(certificates_to_send(ours, {pki().root.public_key_info_sha1()})),
            (std::vector<Bytes>{pki().gateway.der(), pki().inter.der()}));
  // The peer trusts the intermediate itself: the end entity is enough.
  EXPECT_EQ(der_of(certificates_to_send(ours, {pki().inter.public_key_info_sha1()})),
            (std::vector<Bytes>{pki().gateway.der()}));
  // No CERTREQ, or none of ours: everything but the self-signed root.
  EXPECT_EQ(der_of(certificates_to_send(ours, {})),
            (std::vector<Bytes>{pki().gateway.der(), pki().inter.der()}));
  EXPECT_EQ(der_of(certificates_to_send(ours, {Bytes(20, 0)})),
            (std::vector<Bytes>{pki().gateway.der(), pki().inter.der()}));
}

TEST(CertificateSelection, ChoosesTheCredentialUnderARequestedCa) {
  auto other_key = PrivateKey::generate_ec(EcCurve::P256).value();
  auto other_root =
      testing::issue({"CN=Other Root", 5, testing::day(2024, 1, 1), testing::day(2040, 1, 1), true, ""},
                     other_key, nullptr, other_key);
  auto other_leaf =
      testing::issue({"CN=gw-other", 6, testing::day(2024, 1, 1), testing::day(2030, 1, 1), false, ""},
                     pki().leaf_key, &other_root, other_key);
  const std::vector<CertificateChain> creds{{other_leaf, {other_root}},
                                            {pki().gateway, {pki().inter, pki().root}}};
  EXPECT_EQ(choose_credential(creds, {pki().root.public_key_info_sha1()}), std::optional<std::size_t>(1));
  EXPECT_EQ(choose_credential(creds, {other_root.public_key_info_sha1()}), std::optional<std::size_t>(0));
  EXPECT_EQ(choose_credential(creds, {}), std::nullopt);
  EXPECT_EQ(choose_credential(creds, {Bytes(20, 7)}), std::nullopt);
}

TEST(PeerCertificates, FirstIsTheEndEntity) {
  const Certificate ee{iana::CertEncoding::X509Signature, pki().gateway.der()};
  const Certificate ca{iana::CertEncoding::X509Signature, pki().inter.der()};
  const Certificate url{static_cast<iana::CertEncoding>(12), Bytes(10, 1)};
  auto peer = peer_certificates({&ee, &url, &ca});
  ASSERT_TRUE(peer) << peer.error();
  EXPECT_EQ(peer->end_entity, pki().gateway);
  ASSERT_EQ(peer->intermediates.size(), 1u);
  EXPECT_EQ(peer->intermediates[0], pki().inter);

  EXPECT_FALSE(peer_certificates({}));
  auto first_url = peer_certificates({&url, &ee});
  ASSERT_FALSE(first_url);
  EXPECT_EQ(first_url.error(),
            "the peer's first CERT payload has encoding 12, natgate reads only 4 (X.509 signature)");
  const Certificate junk{iana::CertEncoding::X509Signature, hex_bytes("3003020101")};
  EXPECT_FALSE(peer_certificates({&junk}));
  EXPECT_FALSE(peer_certificates({&ee, &junk}));
}

}  // namespace
}  // namespace natgate::ike
