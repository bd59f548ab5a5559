// Loading keys and certificates from files as the configuration names them: PEM (plain and
// passphrase-protected, PKCS#8 and traditional) and DER, written by the openssl tool.
#include <gtest/gtest.h>

#include "ike/auth/private_key.h"
#include "ike/auth/signature_auth.h"
#include "pki_fixture.h"

namespace natgate::ike {
namespace {

using testing::run;

TEST(KeyLoading, PemDerAndEncryptedKeys) {
  testing::ScratchDir dir;
  ASSERT_EQ(run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out " + dir.file("ec.pem") +
                " 2>/dev/null"),
            0);
  ASSERT_EQ(run("openssl pkey -in " + dir.file("ec.pem") + " -outform DER -out " + dir.file("ec.der")), 0);
  ASSERT_EQ(run("openssl pkey -in " + dir.file("ec.pem") + " -aes256 -passout pass:s3cret -out " +
                dir.file("enc.pem")),
            0);
  ASSERT_EQ(run("openssl genrsa -traditional -out " + dir.file("rsa.pem") + " 2048 2>/dev/null"), 0);

  auto pem = PrivateKey::load_file(dir.file("ec.pem"));
  ASSERT_TRUE(pem) << pem.error();
  EXPECT_EQ(pem->describe(), "ECDSA P-384");
  auto der = PrivateKey::load_file(dir.file("ec.der"));
  ASSERT_TRUE(der) << der.error();
  auto enc = PrivateKey::load_file(dir.file("enc.pem"), "s3cret");
  ASSERT_TRUE(enc) << enc.error();
  EXPECT_FALSE(PrivateKey::load_file(dir.file("enc.pem"), "wrong"));
  EXPECT_FALSE(PrivateKey::load_file(dir.file("enc.pem")));
  auto rsa = PrivateKey::load_file(dir.file("rsa.pem"));
  ASSERT_TRUE(rsa) << rsa.error();
  EXPECT_EQ(rsa->describe(), "RSA-2048");
  auto missing = PrivateKey::load_file(dir.file("nope.pem"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cannot open"), std::string::npos);

  // All three forms are the same key: a signature by one verifies with the others' public halves.
  const Bytes data(20, 9);
  auto auth = sign_auth(*der, SignatureScheme::EcdsaSha384, data);
  ASSERT_TRUE(auth);
  EXPECT_TRUE(verify_auth(*auth, pem->public_key(), data));
  EXPECT_TRUE(verify_auth(*auth, enc->public_key(), data));
}

TEST(KeyLoading, CertificateFilesPemAndDer) {
  testing::ScratchDir dir;
  dir.write("chain.pem", testing::cert_pem(testing::pki().gateway) + testing::cert_pem(testing::pki().inter));
  dir.write("gw.der", testing::pki().gateway.der());
  auto chain = X509Certificate::load_file(dir.file("chain.pem"));
  ASSERT_TRUE(chain) << chain.error();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[1], testing::pki().inter);
  auto der = X509Certificate::load_file(dir.file("gw.der"));
  ASSERT_TRUE(der) << der.error();
  ASSERT_EQ(der->size(), 1u);
  EXPECT_EQ(der->front(), testing::pki().gateway);
  dir.write("junk.der", hex_bytes("300100"));
  EXPECT_FALSE(X509Certificate::load_file(dir.file("junk.der")));
}

}  // namespace
}  // namespace natgate::ike
