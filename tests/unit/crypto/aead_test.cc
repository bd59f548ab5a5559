// AES-GCM (McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 2-4 and
// 13-16) and ChaCha20-Poly1305 (RFC 8439 §2.8.2).
#include "crypto/aead.h"

#include <gtest/gtest.h>

namespace natgate::crypto {
namespace {

const char* kGcmP =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
    "b16aedf5aa0de657ba637b391aafd255";
const char* kGcmA = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const char* kGcmK = "feffe9928665731c6d6a8f9467308308";
const char* kGcmIv = "cafebabefacedbaddecaf888";

struct GcmCase {
  const char* name;
  AeadAlgorithm algorithm;
  Bytes key;
  Bytes iv;
  Bytes plaintext;
  Bytes aad;
  const char* ciphertext;
  const char* tag;
};

Bytes first(Bytes b, std::size_t n) { return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)); }

std::vector<GcmCase> gcm_cases() {
  const Bytes k128 = hex_bytes(kGcmK);
  Bytes k256 = k128;
  append(k256, k128);
  const Bytes p = hex_bytes(kGcmP);
  return {
      {"tc2",
       AeadAlgorithm::AesGcm128,
       Bytes(16),
       Bytes(12),
       Bytes(16),
       {},
       "0388dace60b6a392f328c2b971b2fe78",
       "ab6e47d42cec13bdf53a67b21257bddf"},
      {"tc3",
       AeadAlgorithm::AesGcm128,
       k128,
       hex_bytes(kGcmIv),
       p,
       {},
       "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
       "1ba30b396a0aac973d58e091473f5985",
       "4d5c2af327cd64a62cf35abd2ba6fab4"},
      {"tc4", AeadAlgorithm::AesGcm128, k128, hex_bytes(kGcmIv), first(p, 60), hex_bytes(kGcmA),
       "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
       "1ba30b396a0aac973d58e091",
       "5bc94fbc3221a5db94fae95ae7121a47"},
      {"tc13",
       AeadAlgorithm::AesGcm256,
       Bytes(32),
       Bytes(12),
       {},
       {},
       "",
       "530f8afbc74536b9a963b4f1c4cb738b"},
      {"tc14",
       AeadAlgorithm::AesGcm256,
       Bytes(32),
       Bytes(12),
       Bytes(16),
       {},
       "cea7403d4d606b6e074ec5d3baf39d18",
       "d0d1c8a799996bf0265b98b5d48ab919"},
      {"tc15",
       AeadAlgorithm::AesGcm256,
       k256,
       hex_bytes(kGcmIv),
       p,
       {},
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
       "c5f61e6393ba7a0abcc9f662898015ad",
       "b094dac5d93471bdec1a502270e3cc6c"},
      {"tc16", AeadAlgorithm::AesGcm256, k256, hex_bytes(kGcmIv), first(p, 60), hex_bytes(kGcmA),
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
       "c5f61e6393ba7a0abcc9f662",
       "76fc6ece0f4e1768cddf8853bb2d551b"},
  };
}

TEST(Aead, AesGcmSpecVectorsSealAndOpen) {
  for (const auto& c : gcm_cases()) {
    SCOPED_TRACE(c.name);
    auto aead = Aead::create(c.algorithm, c.key);
    ASSERT_TRUE(aead.has_value()) << aead.error();
    Bytes sealed(c.plaintext.size() + Aead::kTagSize);
    ASSERT_TRUE(aead->seal(c.iv, c.aad, c.plaintext, sealed).has_value());
    EXPECT_EQ(to_hex(sealed), std::string(c.ciphertext) + c.tag);

    Bytes opened(c.plaintext.size());
    EXPECT_TRUE(aead->open(c.iv, c.aad, sealed, opened));
    EXPECT_EQ(opened, c.plaintext);
  }
}

TEST(Aead, OneObjectSealsManyPacketsWithFreshNonces) {
  // The key schedule is kept and only the nonce changes per call: every packet must match
  // a freshly keyed object, whatever came before it.
  const auto cases = gcm_cases();
  auto reused = Aead::create(AeadAlgorithm::AesGcm256, cases[5].key);
  ASSERT_TRUE(reused.has_value());
  for (std::size_t round = 0; round < 3; ++round) {
    for (std::size_t plain_len : {std::size_t{60}, std::size_t{64}, std::size_t{1}, std::size_t{0}}) {
      Bytes p = first(hex_bytes(kGcmP), plain_len);
      Bytes iv = hex_bytes(kGcmIv);
      iv[11] = static_cast<std::uint8_t>(round * 7 + plain_len);
      auto fresh = Aead::create(AeadAlgorithm::AesGcm256, cases[5].key);
      ASSERT_TRUE(fresh.has_value());
      Bytes a(p.size() + 16), b(p.size() + 16);
      ASSERT_TRUE(reused->seal(iv, hex_bytes(kGcmA), p, a).has_value());
      ASSERT_TRUE(fresh->seal(iv, hex_bytes(kGcmA), p, b).has_value());
      EXPECT_EQ(a, b);
    }
  }
}

const char* kChachaKey = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
const char* kChachaNonce = "070000004041424344454647";
const char* kChachaAad = "50515253c0c1c2c3c4c5c6c7";
const char* kChachaPlain =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen "
    "would be it.";
const char* kChachaSealed =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71"
    "de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def0"
    "8e4b7a9de576d26586cec64b6116"
    "1ae10b594f09e26a7e902ecbd0600691";

TEST(Aead, ChaCha20Poly1305Rfc8439Section282) {
  auto aead = Aead::create(AeadAlgorithm::ChaCha20Poly1305, hex_bytes(kChachaKey));
  ASSERT_TRUE(aead.has_value()) << aead.error();
  ByteView plain = as_bytes(kChachaPlain);
  Bytes sealed(plain.size() + 16);
  for (int round = 0; round < 2; ++round) {  // twice: re-use of the keyed context
    ASSERT_TRUE(aead->seal(hex_bytes(kChachaNonce), hex_bytes(kChachaAad), plain, sealed).has_value());
    EXPECT_EQ(to_hex(sealed), kChachaSealed);
    Bytes opened(plain.size());
    EXPECT_TRUE(aead->open(hex_bytes(kChachaNonce), hex_bytes(kChachaAad), sealed, opened));
    EXPECT_EQ(opened, Bytes(plain.begin(), plain.end()));
  }
}

TEST(Aead, InPlaceMatchesCopyingVariant) {
  for (auto alg : {AeadAlgorithm::AesGcm128, AeadAlgorithm::ChaCha20Poly1305}) {
    Bytes key(aead_key_size(alg), 0x5a);
    auto aead = Aead::create(alg, key);
    ASSERT_TRUE(aead.has_value());
    const Bytes nonce(12, 0x01), aad = hex_bytes("0000abcd00000001");
    const Bytes plain = hex_bytes(kGcmP);

    Bytes sealed(plain.size() + 16);
    ASSERT_TRUE(aead->seal(nonce, aad, plain, sealed).has_value());

    // One buffer: payload followed by room for the tag, as an ESP packet is laid out.
    Bytes packet = plain;
    packet.resize(plain.size() + 16);
    MutableByteView data(packet.data(), plain.size());
    MutableByteView tag(packet.data() + plain.size(), 16);
    ASSERT_TRUE(aead->seal_in_place(nonce, aad, data, tag).has_value());
    EXPECT_EQ(packet, sealed);

    ASSERT_TRUE(aead->open_in_place(nonce, aad, data, tag));
    EXPECT_EQ(Bytes(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(plain.size())), plain);
  }
}

TEST(Aead, AnyFlippedBitIsRejectedAndOutputZeroed) {
  auto aead = Aead::create(AeadAlgorithm::ChaCha20Poly1305, hex_bytes(kChachaKey));
  ASSERT_TRUE(aead.has_value());
  const Bytes sealed = hex_bytes(kChachaSealed);
  const Bytes nonce = hex_bytes(kChachaNonce), aad = hex_bytes(kChachaAad);
  Bytes out(sealed.size() - 16);
  for (std::size_t i :
       {std::size_t{0}, sealed.size() / 2, sealed.size() - 17, sealed.size() - 16, sealed.size() - 1}) {
    Bytes bad = sealed;
    bad[i] ^= 0x04;
    std::fill(out.begin(), out.end(), 0xee);
    EXPECT_FALSE(aead->open(nonce, aad, bad, out)) << "byte " << i;
    EXPECT_EQ(out, Bytes(out.size(), 0)) << "unauthenticated plaintext left in the output";
  }
  Bytes bad_aad = aad;
  bad_aad[0] ^= 0x80;
  EXPECT_FALSE(aead->open(nonce, bad_aad, sealed, out));
  Bytes bad_nonce = nonce;
  bad_nonce[11] ^= 0x01;
  EXPECT_FALSE(aead->open(bad_nonce, aad, sealed, out));
  // Still works after failures (no poisoned context state).
  EXPECT_TRUE(aead->open(nonce, aad, sealed, out));
}

TEST(Aead, RejectsWrongSizes) {
  EXPECT_FALSE(Aead::create(AeadAlgorithm::AesGcm256, Bytes(16)).has_value());
  EXPECT_FALSE(Aead::create(AeadAlgorithm::ChaCha20Poly1305, Bytes(36)).has_value());
  auto aead = Aead::create(AeadAlgorithm::AesGcm128, Bytes(16));
  ASSERT_TRUE(aead.has_value());
  Bytes out(16 + 16);
  EXPECT_FALSE(aead->seal(Bytes(8), {}, Bytes(16), out).has_value());  // 8-byte nonce
  Bytes too_short(31);
  EXPECT_FALSE(aead->seal(Bytes(12), {}, Bytes(16), too_short).has_value());
  Bytes small(3);
  EXPECT_FALSE(aead->open(Bytes(12), {}, Bytes(15), small));  // shorter than a tag
}

TEST(Aead, OneDirectionContextsSealAndOpenEachOthersMessages) {
  for (auto alg : {AeadAlgorithm::AesGcm256, AeadAlgorithm::ChaCha20Poly1305}) {
    const Bytes key(aead_key_size(alg), 0x5a);
    auto sealer = Aead::create(alg, key, AeadUse::SealOnly);
    auto opener = Aead::create(alg, key, AeadUse::OpenOnly);
    auto both = Aead::create(alg, key);
    ASSERT_TRUE(sealer.has_value() && opener.has_value() && both.has_value());
    const Bytes nonce(12, 0x01), aad(20, 0x02), plain(100, 0x03);
    Bytes sealed(plain.size() + Aead::kTagSize), expected(plain.size() + Aead::kTagSize);
    ASSERT_TRUE(sealer->seal(nonce, aad, plain, sealed).has_value());
    ASSERT_TRUE(both->seal(nonce, aad, plain, expected).has_value());
    EXPECT_EQ(sealed, expected);
    Bytes out(plain.size());
    ASSERT_TRUE(opener->open(nonce, aad, sealed, out));
    EXPECT_EQ(out, plain);
    // The direction a context was not keyed for fails instead of using a missing context.
    EXPECT_FALSE(sealer->open(nonce, aad, sealed, out));
    EXPECT_FALSE(opener->seal(nonce, aad, plain, sealed).has_value());
  }
}

TEST(Aead, IanaTransformsMapToAlgorithms) {
  EXPECT_EQ(*aead_algorithm(iana::EncrId::AesGcm16, 128), AeadAlgorithm::AesGcm128);
  EXPECT_EQ(*aead_algorithm(iana::EncrId::AesGcm16, 256), AeadAlgorithm::AesGcm256);
  EXPECT_EQ(*aead_algorithm(iana::EncrId::ChaCha20Poly1305, 0), AeadAlgorithm::ChaCha20Poly1305);
  EXPECT_FALSE(aead_algorithm(iana::EncrId::AesGcm16, 100).has_value());
  EXPECT_FALSE(aead_algorithm(iana::EncrId::AesCbc, 128).has_value());
}

}  // namespace
}  // namespace natgate::crypto
