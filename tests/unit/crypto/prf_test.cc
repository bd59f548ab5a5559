// IKEv2 PRFs and prf+ (RFC 7296 §2.13).
#include "crypto/prf.h"

#include <gtest/gtest.h>

namespace natgate::crypto {
namespace {

Bytes text(const char* s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }
Bytes counting(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i);
  return b;
}

TEST(Prf, HmacPrfsMatchRfc4231AndRfc2202) {
  auto sha256 = Prf::create(iana::PrfId::HmacSha2_256, text("Jefe"));
  auto sha1 = Prf::create(iana::PrfId::HmacSha1, text("Jefe"));
  ASSERT_TRUE(sha256 && sha1);
  EXPECT_EQ(sha256->output_size(), 32u);
  EXPECT_EQ(to_hex(sha256->compute({text("what do ya want for nothing?")}).view()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(to_hex(sha1->compute({text("what do ya want for nothing?")}).view()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(Prf, OutputSizesArePreferredKeyLengths) {
  for (auto [id, size] :
       {std::pair{iana::PrfId::HmacSha1, 20u}, std::pair{iana::PrfId::HmacSha2_256, 32u},
        std::pair{iana::PrfId::HmacSha2_384, 48u}, std::pair{iana::PrfId::HmacSha2_512, 64u}}) {
    auto prf = Prf::create(id, text("k"));
    ASSERT_TRUE(prf.has_value());
    EXPECT_EQ(prf->output_size(), size);
  }
  auto md5 = Prf::create(iana::PrfId::HmacMd5, text("k"));
  ASSERT_FALSE(md5.has_value());
  EXPECT_NE(md5.error().find("unsupported PRF 1"), std::string::npos);
}

// Expected values made with python3's hmac module by a direct transcription of RFC 7296
// §2.13 (T1 = prf(K, S|0x01), Tn = prf(K, Tn-1|S|n)):
//   def prf_plus(alg, key, seed, n):
//       out, t, i = b"", b"", 1
//       while len(out) < n: t = hmac.new(key, t + seed + bytes([i]), alg).digest(); out += t; i += 1
//       return out[:n]
TEST(Prf, PrfPlusMatchesIndependentComputation) {
  auto sha256 = Prf::create(iana::PrfId::HmacSha2_256, counting(32));
  ASSERT_TRUE(sha256.has_value());
  auto out = sha256->plus(text("natgate prf+ seed"), 100);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(to_hex(out->view()),
            "2ddd289e00593865844479aeb4f49ec7d19cb1e5eafcace4e9473c88d1aecb73f11b426d2b76f10642c95fed8e425896"
            "f42e7319af0aca9efeb694257333850de82c698a6a6f01be5bf3a29808db1c425725825b1a01cc5254852275dd43289e"
            "698345ff");

  auto sha1 = Prf::create(iana::PrfId::HmacSha1, text("Jefe"));
  ASSERT_TRUE(sha1.has_value());
  auto out1 = sha1->plus(text("what do ya want for nothing?"), 50);
  ASSERT_TRUE(out1.has_value());
  EXPECT_EQ(
      to_hex(out1->view()),
      "46a305fd17f1f67638856591e4dd8266f280d102ea98a57c55eaea0cfdc0babcb4354414cfdeda1d69d3de0cc08420bc358d");

  auto sha512 = Prf::create(iana::PrfId::HmacSha2_512, counting(64));
  ASSERT_TRUE(sha512.has_value());
  auto out512 = sha512->plus(counting(200), 130);
  ASSERT_TRUE(out512.has_value());
  EXPECT_EQ(to_hex(out512->view()),
            "d8ee62502dc89221141bfb6d6892deb82299e1fbc5e6038c6dbecbb71f298d2c2b2fc0572d7de35c247dfcfdbee73c40"
            "bf25816eedc4857e821e26947855e996be66b33ea3eb715e34b004b2a9bb874ca4f6cb9b772fbcc1dcf9ab5d767b19d4"
            "5075b1c2b633142546d5b79b9fac297bf806cc58a5305e765de67c1e24af75f8620e");
}

TEST(Prf, PrfPlusPrefixIsStableAcrossLengths) {
  auto prf = Prf::create(iana::PrfId::HmacSha2_256, counting(32));
  ASSERT_TRUE(prf.has_value());
  auto longer = prf->plus(text("seed"), 70);
  auto shorter = prf->plus(text("seed"), 33);
  ASSERT_TRUE(longer && shorter);
  EXPECT_EQ(longer->slice(0, 33), *shorter);
}

TEST(Prf, PrfPlusStopsAt255Blocks) {
  auto prf = Prf::create(iana::PrfId::HmacSha1, text("k"));
  ASSERT_TRUE(prf.has_value());
  EXPECT_TRUE(prf->plus(text("s"), std::size_t{255} * 20).has_value());
  auto too_long = prf->plus(text("s"), std::size_t{255} * 20 + 1);
  ASSERT_FALSE(too_long.has_value());
  EXPECT_NE(too_long.error().find("255 blocks"), std::string::npos);
}

}  // namespace
}  // namespace natgate::crypto
