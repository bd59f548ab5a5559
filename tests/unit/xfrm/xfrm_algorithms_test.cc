#include "xfrm/xfrm_algorithms.h"

#include <gtest/gtest.h>

namespace natgate::xfrm {
namespace {

dataplane::EspTransform transform(iana::EncrId encr, std::uint16_t bits,
                                  iana::IntegId integ = iana::IntegId::None) {
  dataplane::EspTransform t;
  t.encr = encr;
  t.encr_key_bits = bits;
  t.integ = integ;
  return t;
}

TEST(XfrmAlgorithms, AesGcm16MapsToRfc4106WithSaltInTheKey) {
  for (std::uint16_t bits : {128, 192, 256}) {
    auto algs = kernel_algorithms(transform(iana::EncrId::AesGcm16, bits));
    ASSERT_TRUE(algs) << algs.error();
    ASSERT_TRUE(algs->aead);
    EXPECT_EQ(algs->aead->name, "rfc4106(gcm(aes))");
    EXPECT_EQ(algs->aead->key_bits, bits + 32u);  // RFC 4106 §8.1: 4-byte salt after the key
    EXPECT_EQ(algs->aead->icv_bits, 128u);
    EXPECT_FALSE(algs->cipher);
    EXPECT_FALSE(algs->auth);
  }
}

TEST(XfrmAlgorithms, ChaCha20Poly1305MapsToRfc7539esp) {
  auto algs = kernel_algorithms(transform(iana::EncrId::ChaCha20Poly1305, 256));
  ASSERT_TRUE(algs) << algs.error();
  EXPECT_EQ(algs->aead->name, "rfc7539esp(chacha20,poly1305)");
  EXPECT_EQ(algs->aead->key_bits, 288u);  // RFC 7634 §2: 256-bit key + 32-bit salt
  EXPECT_EQ(algs->aead->icv_bits, 128u);
  EXPECT_FALSE(kernel_algorithms(transform(iana::EncrId::ChaCha20Poly1305, 128)));
}

TEST(XfrmAlgorithms, CbcWithEachHmacTruncatesPerRfc4868AndRfc2404) {
  struct Case {
    iana::IntegId integ;
    const char* name;
    std::uint32_t key_bits;
    std::uint32_t trunc_bits;
  };
  const Case cases[] = {
      {iana::IntegId::HmacSha1_96, "hmac(sha1)", 160, 96},
      {iana::IntegId::HmacSha2_256_128, "hmac(sha256)", 256, 128},
      {iana::IntegId::HmacSha2_384_192, "hmac(sha384)", 384, 192},
      {iana::IntegId::HmacSha2_512_256, "hmac(sha512)", 512, 256},
  };
  for (const Case& c : cases) {
    auto algs = kernel_algorithms(transform(iana::EncrId::AesCbc, 256, c.integ));
    ASSERT_TRUE(algs) << algs.error();
    ASSERT_TRUE(algs->cipher && algs->auth);
    EXPECT_EQ(algs->cipher->name, "cbc(aes)");
    EXPECT_EQ(algs->cipher->key_bits, 256u);
    EXPECT_EQ(algs->auth->name, c.name);
    EXPECT_EQ(algs->auth->key_bits, c.key_bits);
    EXPECT_EQ(algs->auth->trunc_bits, c.trunc_bits);
    EXPECT_FALSE(algs->aead);
  }
}

TEST(XfrmAlgorithms, RefusesCombinationsTheKernelPathDoesNotOffer) {
  EXPECT_FALSE(kernel_algorithms(transform(iana::EncrId::AesGcm16, 256, iana::IntegId::HmacSha2_256_128)));
  EXPECT_FALSE(kernel_algorithms(transform(iana::EncrId::AesCbc, 128)));  // no integrity
  EXPECT_FALSE(kernel_algorithms(transform(iana::EncrId::AesCtr, 128, iana::IntegId::HmacSha2_256_128)));
  EXPECT_FALSE(kernel_algorithms(transform(iana::EncrId::AesGcm8, 128)));
  EXPECT_FALSE(kernel_algorithms(transform(iana::EncrId::AesGcm16, 160)));
  EXPECT_FALSE(kernel_algorithms(transform(iana::EncrId::AesCbc, 64, iana::IntegId::HmacSha1_96)));
}

TEST(XfrmAlgorithms, KeyLengthsMustMatchTheTransformsKeymat) {
  dataplane::EspTransform gcm = transform(iana::EncrId::AesGcm16, 256);
  EXPECT_TRUE(kernel_algorithms(gcm, SecretBytes(gcm.encr_keymat_bytes()), SecretBytes()));
  auto short_key = kernel_algorithms(gcm, SecretBytes(32), SecretBytes());  // salt missing
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.error().find("needs 36"), std::string::npos) << short_key.error();
  EXPECT_FALSE(kernel_algorithms(gcm, SecretBytes(36), SecretBytes(32)));  // AEAD takes no integ key

  dataplane::EspTransform cbc = transform(iana::EncrId::AesCbc, 128, iana::IntegId::HmacSha2_384_192);
  EXPECT_TRUE(
      kernel_algorithms(cbc, SecretBytes(cbc.encr_keymat_bytes()), SecretBytes(cbc.integ_keymat_bytes())));
  auto bad_integ = kernel_algorithms(cbc, SecretBytes(16), SecretBytes(32));
  ASSERT_FALSE(bad_integ);
  EXPECT_NE(bad_integ.error().find("hmac(sha384) needs 48"), std::string::npos) << bad_integ.error();
  EXPECT_FALSE(kernel_algorithms(cbc, SecretBytes(24), SecretBytes(48)));
}

}  // namespace
}  // namespace natgate::xfrm
