// Signature AUTH (RFC 7296 §2.15, RFC 7427, RFC 4754): round trips for each key type and scheme,
// rejection of anything tampered, and interoperation with signatures the OpenSSL command-line tool
// makes and checks over the same octets.
#include "ike/auth/signature_auth.h"

#include <gtest/gtest.h>

#include "test_pki.h"

namespace natgate::ike {
namespace {

using S = SignatureScheme;
using testing::run;
using testing::ScratchDir;

Bytes sample_octets() {
  Bytes b(300);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 13 + 5);
  return b;
}

const PrivateKey& rsa2048() {
  static const PrivateKey k = PrivateKey::generate_rsa(2048).value();
  return k;
}
const PrivateKey& p256() {
  static const PrivateKey k = PrivateKey::generate_ec(EcCurve::P256).value();
  return k;
}
const PrivateKey& p384() {
  static const PrivateKey k = PrivateKey::generate_ec(EcCurve::P384).value();
  return k;
}
const PrivateKey& p521() {
  static const PrivateKey k = PrivateKey::generate_ec(EcCurve::P521).value();
  return k;
}

struct Case {
  const PrivateKey& (*key)();
  S scheme;
};

class SignatureRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(SignatureRoundTrip, SignsVerifiesAndRejectsTampering) {
  const PrivateKey& key = GetParam().key();
  const S scheme = GetParam().scheme;
  const Bytes octets = sample_octets();
  auto auth = sign_auth(key, scheme, octets);
  ASSERT_TRUE(auth) << auth.error();
  EXPECT_EQ(auth->method, iana::AuthMethod::DigitalSignature);
  const ByteView algid = algorithm_identifier(scheme);
  ASSERT_GT(auth->data.size(), 1 + algid.size());
  EXPECT_EQ(auth->data[0], algid.size());
  EXPECT_EQ(to_hex(ByteView(auth->data).subspan(1, algid.size())), to_hex(algid));

  const PublicKey pub = key.public_key();
  EXPECT_TRUE(verify_auth(*auth, pub, octets)) << verify_auth(*auth, pub, octets).error();

  Bytes tampered = octets;
  tampered[100] ^= 0x01;
  auto st = verify_auth(*auth, pub, tampered);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("does not verify"), std::string::npos) << st.error();

  Authentication bad_sig = *auth;
  bad_sig.data.back() ^= 0x80;
  EXPECT_FALSE(verify_auth(bad_sig, pub, octets));

  // Another key of the same type must not verify it.
  auto other =
      key.type() == KeyType::Rsa ? PrivateKey::generate_rsa(2048) : PrivateKey::generate_ec(EcCurve::P256);
  if (key.type() == KeyType::Ecdsa && key.bits() != 256) other = PrivateKey::generate_ec(EcCurve::P384);
  ASSERT_TRUE(other);
  EXPECT_FALSE(verify_auth(*auth, other->public_key(), octets));
}

INSTANTIATE_TEST_SUITE_P(Rfc7427, SignatureRoundTrip,
                         ::testing::Values(Case{rsa2048, S::RsaPkcs1Sha256}, Case{rsa2048, S::RsaPkcs1Sha384},
                                           Case{rsa2048, S::RsaPkcs1Sha512}, Case{rsa2048, S::RsaPssSha256},
                                           Case{rsa2048, S::RsaPssSha384}, Case{p256, S::EcdsaSha256},
                                           Case{p256, S::EcdsaSha384}, Case{p384, S::EcdsaSha384},
                                           Case{p384, S::EcdsaSha512}, Case{p521, S::EcdsaSha512}));

TEST(SignatureAuth, Ed25519RoundTrip) {
  auto key = PrivateKey::generate_ed25519();
  ASSERT_TRUE(key) << key.error();
  const Bytes octets = sample_octets();
  auto auth = sign_auth(*key, S::Ed25519, octets);
  ASSERT_TRUE(auth) << auth.error();
  EXPECT_TRUE(verify_auth(*auth, key->public_key(), octets));
  Bytes tampered = octets;
  tampered[0] ^= 1;
  EXPECT_FALSE(verify_auth(*auth, key->public_key(), tampered));
}

TEST(SignatureAuth, EcdsaMethod14SignatureIsDer) {
  auto auth = sign_auth(p256(), S::EcdsaSha256, sample_octets());
  ASSERT_TRUE(auth);
  const std::size_t sig_at = 1 + algorithm_identifier(S::EcdsaSha256).size();
  EXPECT_EQ(auth->data[sig_at], 0x30);  // SEQUENCE { r INTEGER, s INTEGER } (RFC 7427 A.3)
  EXPECT_EQ(auth->data[sig_at + 1] + 2u, auth->data.size() - sig_at);
}

TEST(SignatureAuth, KeyTypeMismatchIsExplained) {
  auto auth = sign_auth(p384(), S::EcdsaSha384, sample_octets());
  ASSERT_TRUE(auth);
  auto st = verify_auth(*auth, rsa2048().public_key(), sample_octets());
  ASSERT_FALSE(st);
  EXPECT_EQ(
      st.error(),
      "AUTH method 14 (ECDSA with SHA-384): ECDSA with SHA-384 signature cannot be checked with the peer's "
      "RSA-2048 key");
  EXPECT_FALSE(sign_auth(rsa2048(), S::EcdsaSha256, sample_octets()));
}

TEST(SignatureAuth, MalformedMethod14DataIsRejected) {
  const PublicKey pub = p256().public_key();
  for (const char* hex : {"", "00", "0c300a06082a8648ce3d040302", "ff3000"}) {
    Authentication a{iana::AuthMethod::DigitalSignature, hex_bytes(hex)};
    EXPECT_FALSE(verify_auth(a, pub, sample_octets())) << hex;
  }
  // md5WithRSAEncryption (1.2.840.113549.1.1.4) is deliberately not among the schemes natgate knows
  // (MD5 is broken): it must be refused as an unknown algorithm.
  Authentication unknown{iana::AuthMethod::DigitalSignature,
                         hex_bytes("0f300d06092a864886f70d0101040500aabb")};
  auto st = verify_auth(unknown, pub, sample_octets());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("unknown signature algorithm 300d06092a864886f70d0101040500"), std::string::npos);
}

TEST(SignatureAuth, PolicyLimitsSchemes) {
  auto auth = sign_auth(rsa2048(), S::RsaPkcs1Sha512, sample_octets());
  ASSERT_TRUE(auth);
  SignaturePolicy only_pss;
  only_pss.accepted = {S::RsaPssSha256};
  auto st = verify_auth(*auth, rsa2048().public_key(), sample_octets(), only_pss);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("not accepted"), std::string::npos);
}

TEST(SignatureAuth, ClassicMethods) {
  const Bytes octets = sample_octets();
  struct {
    const PrivateKey& key;
    iana::AuthMethod method;
    std::size_t size;
  } cases[] = {{rsa2048(), iana::AuthMethod::RsaSignature, 256},
               {p256(), iana::AuthMethod::EcdsaSha256P256, 64},
               {p384(), iana::AuthMethod::EcdsaSha384P384, 96},
               {p521(), iana::AuthMethod::EcdsaSha512P521, 132}};
  SignaturePolicy sha1_allowed;  // method 1 is RSA with SHA-1
  sha1_allowed.accept_sha1 = true;
  for (const auto& c : cases) {
    auto auth = sign_classic_auth(c.key, octets);
    ASSERT_TRUE(auth) << auth.error();
    EXPECT_EQ(auth->method, c.method);
    EXPECT_EQ(auth->data.size(), c.size);  // RSA: modulus size; ECDSA: r | s (RFC 4754 §7)
    EXPECT_TRUE(verify_auth(*auth, c.key.public_key(), octets, sha1_allowed)) << c.key.describe();
    Bytes tampered = octets;
    tampered[7] ^= 4;
    EXPECT_FALSE(verify_auth(*auth, c.key.public_key(), tampered, sha1_allowed));
    SignaturePolicy no_classic;
    no_classic.accept_classic = false;
    EXPECT_FALSE(verify_auth(*auth, c.key.public_key(), octets, no_classic));
  }
  // Method 9 fixes the curve: a P-384 key cannot be used with it (RFC 4754 §8).
  auto auth = sign_classic_auth(p256(), octets);
  Authentication as10 = *auth;
  as10.method = iana::AuthMethod::EcdsaSha384P384;
  EXPECT_FALSE(verify_auth(as10, p256().public_key(), octets));
  EXPECT_FALSE(verify_auth(*auth, p384().public_key(), octets));
}

// Issue 12 item 9: SHA-1 signatures are refused unless the connection opts in.
TEST(SignatureAuth, Sha1IsRefusedUnlessAllowed) {
  const Bytes octets = sample_octets();
  SignaturePolicy allow;
  allow.accept_sha1 = true;

  // Classic method 1: RSA PKCS#1 v1.5 with SHA-1.
  auto classic = sign_classic_auth(rsa2048(), octets);
  ASSERT_TRUE(classic);
  ASSERT_EQ(classic->method, iana::AuthMethod::RsaSignature);
  auto refused = verify_auth(*classic, rsa2048().public_key(), octets);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(),
            "AUTH method 1 (RSA with SHA-1) uses SHA-1, refused unless the connection sets remote.auth_sha1: "
            "allow");
  EXPECT_TRUE(verify_auth(*classic, rsa2048().public_key(), octets, allow));

  // Method 14 with sha1WithRSAEncryption and ecdsa-with-SHA1 (RFC 7427 A.1.1, A.3), signed here
  // with OpenSSL directly since natgate never signs with SHA-1.
  struct {
    const PrivateKey& key;
    S scheme;
    Bytes algid;
    const char* name;
  } cases[] = {
      {rsa2048(), S::RsaPkcs1Sha1, hex_bytes("300d06092a864886f70d0101050500"), "RSA PKCS#1 v1.5 with SHA-1"},
      {p256(), S::EcdsaSha1, hex_bytes("300906072a8648ce3d0401"), "ECDSA with SHA-1"}};
  for (const auto& c : cases) {
    auto sig = sign_data(c.key, c.scheme, octets);
    ASSERT_TRUE(sig) << sig.error();
    Authentication auth{iana::AuthMethod::DigitalSignature, {}};
    auth.data.push_back(static_cast<std::uint8_t>(c.algid.size()));
    append(auth.data, c.algid);
    append(auth.data, *sig);
    auto st = verify_auth(auth, c.key.public_key(), octets);
    ASSERT_FALSE(st) << c.name;
    EXPECT_EQ(st.error(), std::string("AUTH method 14: ") + c.name +
                              " uses SHA-1, refused unless the connection sets remote.auth_sha1: allow");
    EXPECT_TRUE(verify_auth(auth, c.key.public_key(), octets, allow)) << c.name;
    Bytes tampered = octets;
    tampered[3] ^= 1;
    EXPECT_FALSE(verify_auth(auth, c.key.public_key(), tampered, allow)) << c.name;
  }
  // SHA-2 signatures are not affected by the default.
  auto sha256 = sign_auth(rsa2048(), S::RsaPkcs1Sha256, octets);
  ASSERT_TRUE(sha256);
  EXPECT_TRUE(verify_auth(*sha256, rsa2048().public_key(), octets));
}

TEST(SignatureAuth, SharedKeyMethodIsNotASignature) {
  Authentication psk{iana::AuthMethod::SharedKeyMic, Bytes(32, 1)};
  auto st = verify_auth(psk, p256().public_key(), sample_octets());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "AUTH method 2 is not a signature method");
}

// Signatures made by `openssl dgst` over a file of the signed octets verify as AUTH payloads, and
// the openssl tool verifies ours.
struct CliCase {
  const PrivateKey& (*key)();
  S scheme;
  const char* dgst_options;
};

class SignatureCli : public ::testing::TestWithParam<CliCase> {};

TEST_P(SignatureCli, InteroperatesWithOpensslDgst) {
  const PrivateKey& key = GetParam().key();
  const S scheme = GetParam().scheme;
  const std::string opts = GetParam().dgst_options;
  ScratchDir dir;
  const Bytes octets = sample_octets();
  dir.write("octets.bin", octets);
  dir.write("key.pem", key.to_pem());
  ASSERT_EQ(run("openssl pkey -in " + dir.file("key.pem") + " -pubout -out " + dir.file("pub.pem")), 0);

  ASSERT_EQ(run("openssl dgst " + opts + " -sign " + dir.file("key.pem") + " -out " + dir.file("cli.sig") +
                " " + dir.file("octets.bin")),
            0);
  Authentication theirs;
  theirs.method = iana::AuthMethod::DigitalSignature;
  const ByteView algid = algorithm_identifier(scheme);
  theirs.data.push_back(static_cast<std::uint8_t>(algid.size()));
  append(theirs.data, algid);
  append(theirs.data, dir.read("cli.sig"));
  const Bytes pub_pem = dir.read("pub.pem");
  auto pub = PublicKey::from_pem(std::string(pub_pem.begin(), pub_pem.end()));
  ASSERT_TRUE(pub) << pub.error();
  EXPECT_TRUE(verify_auth(theirs, *pub, octets)) << verify_auth(theirs, *pub, octets).error();
  Bytes other = octets;
  other[1] ^= 1;
  EXPECT_FALSE(verify_auth(theirs, *pub, other));

  auto ours = sign_data(key, scheme, octets);
  ASSERT_TRUE(ours);
  dir.write("ours.sig", *ours);
  EXPECT_EQ(run("openssl dgst " + opts + " -verify " + dir.file("pub.pem") + " -signature " +
                dir.file("ours.sig") + " " + dir.file("octets.bin") + " >/dev/null"),
            0);
  dir.write("other.bin", other);
  EXPECT_NE(run("openssl dgst " + opts + " -verify " + dir.file("pub.pem") + " -signature " +
                dir.file("ours.sig") + " " + dir.file("other.bin") + " >/dev/null 2>&1"),
            0);
}

INSTANTIATE_TEST_SUITE_P(
    OpensslCli, SignatureCli,
    ::testing::Values(
        CliCase{rsa2048, S::RsaPkcs1Sha256, "-sha256"}, CliCase{rsa2048, S::RsaPkcs1Sha512, "-sha512"},
        CliCase{
            rsa2048, S::RsaPssSha256,
            "-sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt rsa_mgf1_md:sha256"},
        CliCase{p256, S::EcdsaSha256, "-sha256"}, CliCase{p384, S::EcdsaSha384, "-sha384"}));

}  // namespace
}  // namespace natgate::ike
