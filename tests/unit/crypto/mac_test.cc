// HMAC against the published vectors: RFC 4231 (HMAC-SHA-256/384/512) and RFC 2202
// (HMAC-SHA-1), plus the IANA integrity transforms' truncation and constant-time verify.
#include "crypto/mac.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/prf.h"

namespace natgate::crypto {
namespace {

struct HmacCase {
  const char* name;
  Bytes key;
  Bytes data;
  const char* sha256;
  const char* sha384;
  const char* sha512;
};

Bytes repeat(std::uint8_t b, std::size_t n) { return Bytes(n, b); }
Bytes text(const char* s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }
Bytes counting_key() {
  Bytes k;
  for (int i = 1; i <= 25; ++i) k.push_back(static_cast<std::uint8_t>(i));
  return k;
}

// RFC 4231 §4.2–4.8 (case 5, truncation, is its own test below).
std::vector<HmacCase> rfc4231_cases() {
  return {
      {"case1", repeat(0x0b, 20), text("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
       "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4"
       "be9d914eeb61f1702e696c203a126854"},
      {"case2", text("Jefe"), text("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
       "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
       "caeab1a34d4a6b4b636e070a38bce737"},
      {"case3", repeat(0xaa, 20), repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
       "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
       "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807"
       "b946a337bee8942674278859e13292fb"},
      {"case4", counting_key(), repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
       "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
       "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063"
       "a5f19741120c4f2de2adebeb10a298dd"},
      {"case6", repeat(0xaa, 131), text("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
       "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52"
       "95e64f73f63f0aec8b915a985d786598"},
      {"case7", repeat(0xaa, 131),
       text("This is a test using a larger than block-size key and a larger than block-size data. The key "
            "needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
       "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
       "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15"
       "134676fb6de0446065c97440fa8c6a58"},
  };
}

std::string full_hmac(Digest digest, const Bytes& key, const Bytes& data) {
  auto mac = Mac::create(digest, key, digest_size(digest));
  EXPECT_TRUE(mac.has_value());
  return to_hex(mac->compute({data}));
}

TEST(Hmac, Rfc4231Sha2Vectors) {
  for (const auto& c : rfc4231_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(full_hmac(Digest::Sha256, c.key, c.data), c.sha256);
    EXPECT_EQ(full_hmac(Digest::Sha384, c.key, c.data), c.sha384);
    EXPECT_EQ(full_hmac(Digest::Sha512, c.key, c.data), c.sha512);
  }
}

TEST(Hmac, Rfc4231Case5TruncatesTo128Bits) {
  const Bytes key = repeat(0x0c, 20);
  const Bytes data = text("Test With Truncation");
  auto m256 = Mac::create(Digest::Sha256, key, 16);
  auto m384 = Mac::create(Digest::Sha384, key, 16);
  auto m512 = Mac::create(Digest::Sha512, key, 16);
  ASSERT_TRUE(m256 && m384 && m512);
  EXPECT_EQ(to_hex(m256->compute({data})), "a3b6167473100ee06e0c796c2955552b");
  EXPECT_EQ(to_hex(m384->compute({data})), "3abf34c3503b2a23a46efc619baef897");
  EXPECT_EQ(to_hex(m512->compute({data})), "415fad6271580a531d4179bc891d87a6");
}

TEST(Hmac, Rfc2202Sha1Vectors) {
  struct Case {
    Bytes key;
    Bytes data;
    const char* digest;
  };
  const Case cases[] = {
      {repeat(0x0b, 20), text("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"},
      {text("Jefe"), text("what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {repeat(0xaa, 20), repeat(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
      {counting_key(), repeat(0xcd, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
      {repeat(0x0c, 20), text("Test With Truncation"), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
      {repeat(0xaa, 80), text("Test Using Larger Than Block-Size Key - Hash Key First"),
       "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
      {repeat(0xaa, 80), text("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
       "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
  };
  for (const auto& c : cases) EXPECT_EQ(full_hmac(Digest::Sha1, c.key, c.data), c.digest);
}

TEST(Hmac, Rfc2202Case5AsHmacSha1_96) {
  // RFC 2202 §3 test case 5 lists HMAC-SHA-1-96 explicitly; AUTH_HMAC_SHA1_96 takes a 20-byte key.
  auto mac = Mac::create(iana::IntegId::HmacSha1_96, repeat(0x0c, 20));
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->icv_size(), 12u);
  EXPECT_EQ(to_hex(mac->compute({text("Test With Truncation")})), "4c1a03424b55e07fe7f27be1");
}

TEST(Hmac, ReusedObjectGivesSameAnswerEveryTime) {
  // The context is keyed once and re-initialised per call; a stale state would show here.
  auto mac = Mac::create(Digest::Sha256, text("Jefe"), 32);
  ASSERT_TRUE(mac.has_value());
  const Bytes data = text("what do ya want for nothing?");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(to_hex(mac->compute({data})),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  // Split input gives the same MAC as the whole.
  EXPECT_EQ(to_hex(mac->compute({ByteView(data).first(4), ByteView(data).subspan(4)})),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, IntegTransformsHaveRfc4868SizesAndCheckKeyLength) {
  struct Expect {
    iana::IntegId id;
    std::size_t key;
    std::size_t icv;
  };
  for (auto e :
       {Expect{iana::IntegId::HmacSha1_96, 20, 12}, Expect{iana::IntegId::HmacSha2_256_128, 32, 16},
        Expect{iana::IntegId::HmacSha2_384_192, 48, 24}, Expect{iana::IntegId::HmacSha2_512_256, 64, 32}}) {
    auto params = integ_params(e.id);
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(params->key_size, e.key);
    EXPECT_EQ(params->icv_size, e.icv);
    EXPECT_TRUE(Mac::create(e.id, Bytes(e.key, 1)).has_value());
    auto wrong = Mac::create(e.id, Bytes(e.key - 1, 1));
    ASSERT_FALSE(wrong.has_value());
    EXPECT_NE(wrong.error().find("needs " + std::to_string(e.key)), std::string::npos) << wrong.error();
  }
  EXPECT_FALSE(integ_params(iana::IntegId::None).has_value());
}

TEST(Hmac, Sha256_128TruncationIsThePrefixOfTheFullMac) {
  // RFC 4868 §2.1.1 truncation on a RFC 4231 input: the ICV is the first 16 bytes.
  auto mac = Mac::create(iana::IntegId::HmacSha2_256_128, repeat(0x0b, 32));
  auto full = Mac::create(Digest::Sha256, repeat(0x0b, 32), 32);
  ASSERT_TRUE(mac && full);
  Bytes icv = mac->compute({text("Hi There")});
  Bytes whole = full->compute({text("Hi There")});
  EXPECT_EQ(icv, Bytes(whole.begin(), whole.begin() + 16));
}

TEST(Hmac, VerifyAcceptsTheRightIcvOnly) {
  auto mac = Mac::create(iana::IntegId::HmacSha2_384_192, repeat(0x42, 48));
  ASSERT_TRUE(mac.has_value());
  const Bytes data = text("some IKE message bytes");
  Bytes icv = mac->compute({data});
  EXPECT_TRUE(mac->verify({data}, icv));
  for (std::size_t i = 0; i < icv.size(); ++i) {
    Bytes bad = icv;
    bad[i] ^= 0x01;
    EXPECT_FALSE(mac->verify({data}, bad)) << "flipped byte " << i;
  }
  Bytes short_icv(icv.begin(), icv.end() - 1);
  EXPECT_FALSE(mac->verify({data}, short_icv));
  Bytes other = data;
  other.back() ^= 0x80;
  EXPECT_FALSE(mac->verify({other}, icv));
}

TEST(Hmac, RejectsImpossibleTruncation) {
  EXPECT_FALSE(Mac::create(Digest::Sha1, repeat(1, 20), 21).has_value());
  EXPECT_FALSE(Mac::create(Digest::Sha1, repeat(1, 20), 0).has_value());
}

}  // namespace
}  // namespace natgate::crypto
