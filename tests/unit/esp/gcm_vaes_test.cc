// natgate's own AES-GCM (esp/crypto/gcm_vaes.h), on 512- and 256-bit vectors where the CPU has
// them: the McGrew-Viega test cases with 96-bit IVs,
// byte-for-byte agreement with OpenSSL EVP at every length 0..2,100 (directly and as ESP packets
// through EspCrypto), refusal of every flipped bit, and the OpenSSL fallback giving the same bytes.
#include "esp/crypto/gcm_vaes.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <memory>
#include <random>
#include <string>

#include "common/bytes.h"
#include "esp/crypto/esp_crypto.h"
#include "esp/crypto/suite.h"

namespace natgate::esp {
namespace {

#define SKIP_WITHOUT_VAES()                                                                              \
  do {                                                                                                   \
    if (!GcmVaes::cpu_supported()) {                                                                     \
      GTEST_SKIP() << "this CPU lacks AVX-512 VAES/VPCLMULQDQ; the OpenSSL path is what runs here, and " \
                      "the EspCrypto tests cover it";                                                    \
    }                                                                                                    \
  } while (false)

// Exactly sized heap copies, so that AddressSanitizer sees any read or write past the message.
std::unique_ptr<std::uint8_t[]> exact(ByteView b) {
  auto p = std::make_unique<std::uint8_t[]>(b.size() == 0 ? 1 : b.size());
  std::copy(b.begin(), b.end(), p.get());
  return p;
}

struct Sealed {
  Bytes ct;
  Bytes tag;
};

Sealed own_seal(const GcmVaes& g, ByteView nonce, ByteView aad, ByteView pt) {
  auto in = exact(pt);
  auto a = exact(aad);
  auto out = std::make_unique<std::uint8_t[]>(pt.size() == 0 ? 1 : pt.size());
  Sealed s;
  s.tag.resize(16);
  g.seal(nonce.data(), a.get(), aad.size(), in.get(), out.get(), pt.size(), s.tag.data());
  s.ct.assign(out.get(), out.get() + pt.size());
  return s;
}

Sealed evp_seal(ByteView key, ByteView nonce, ByteView aad, ByteView pt) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  const EVP_CIPHER* c = key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  Sealed s;
  s.ct.resize(pt.size());
  s.tag.resize(16);
  int len = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), c, nullptr, key.data(), nonce.data()), 1);
  if (!aad.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), int(aad.size())), 1);
  }
  if (!pt.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), s.ct.data(), &len, pt.data(), int(pt.size())), 1);
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx.get(), s.ct.data(), &len), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, s.tag.data()), 1);
  return s;
}

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

struct Case {
  const char* name;
  const char* key;
  const char* iv;
  const char* aad;
  const char* pt;
  const char* ct;
  const char* tag;
};

// "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega, Appendix B: test cases 1-4
// (AES-128) and 13-16 (AES-256), the ones with 96-bit IVs (ESP's only nonce length, RFC 4106 §4).
constexpr const char* kP64 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5"
    "aa0de6"
    "57ba637b391aafd255";
constexpr const char* kP60 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5"
    "aa0de6"
    "57ba637b39";
constexpr const char* kAad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const Case kCases[] = {
    {"1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"2", "00000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "", kP64,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b3"
     "96a0a"
     "ac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", kAad, kP60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b3"
     "96a0a"
     "ac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"13", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
     "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"14", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
     kP64,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6"
     "393ba"
     "7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     kAad, kP60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6"
     "393ba"
     "7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

// The GCM code itself, on each vector width this CPU has (a CPU with AVX-512 runs both).
class GcmVaesWidths : public ::testing::TestWithParam<GcmVaes::Width> {
 protected:
  void SetUp() override {
    if (!GcmVaes::cpu_supported(GetParam()))
      GTEST_SKIP()
          << "this CPU lacks VAES/VPCLMULQDQ at this width; EspCrypto uses OpenSSL or the other width";
  }
  std::unique_ptr<GcmVaes> create(const Bytes& key) const {
    return GcmVaes::create(key.data(), key.size(), GetParam());
  }
};
INSTANTIATE_TEST_SUITE_P(Width, GcmVaesWidths,
                         ::testing::Values(GcmVaes::Width::Zmm512, GcmVaes::Width::Ymm256),
                         [](const auto& info) {
                           return info.param == GcmVaes::Width::Zmm512 ? "zmm" : "ymm";
                         });

TEST_P(GcmVaesWidths, McGrewViegaTestCases) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string("test case ") + c.name);
    const Bytes key = hex_bytes(c.key), iv = hex_bytes(c.iv), aad = hex_bytes(c.aad), pt = hex_bytes(c.pt);
    auto g = create(key);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->width(), GetParam());
    const Sealed s = own_seal(*g, iv, aad, pt);
    EXPECT_EQ(to_hex(s.ct), c.ct);
    EXPECT_EQ(to_hex(s.tag), c.tag);
    auto ct = exact(s.ct);
    auto out = std::make_unique<std::uint8_t[]>(pt.size() + 1);
    ASSERT_TRUE(g->open(iv.data(), aad.data(), aad.size(), ct.get(), out.get(), pt.size(), s.tag.data()));
    EXPECT_EQ(to_hex(ByteView(out.get(), pt.size())), to_hex(pt));
  }
}

TEST(GcmVaes, OnlyAes128And256KeysAreTaken) {
  SKIP_WITHOUT_VAES();
  const Bytes key(32, 1);
  if (GcmVaes::cpu_supported(GcmVaes::Width::Zmm512)) {
    EXPECT_EQ(GcmVaes::create(key.data(), 16)->width(), GcmVaes::Width::Zmm512);  // the widest by default
  }
  EXPECT_TRUE(GcmVaes::create(key.data(), 16));
  EXPECT_TRUE(GcmVaes::create(key.data(), 32));
  EXPECT_FALSE(GcmVaes::create(key.data(), 24));  // AES-192 stays with OpenSSL
  EXPECT_FALSE(GcmVaes::create(key.data(), 0));
}

TEST_P(GcmVaesWidths, EqualsOpenSslAtEveryLengthAndRefusesFlippedBits) {
  std::mt19937_64 rng(0x6a09e667f3bcc908ULL);
  for (std::size_t key_len : {16U, 32U}) {
    for (std::size_t len = 0; len <= 2100; ++len) {
      const std::size_t aad_len = (len % 4 == 0) ? 8 : (len % 4 == 1) ? 12 : (len % 4 == 2) ? 0 : 20;
      SCOPED_TRACE("key " + std::to_string(key_len) + " len " + std::to_string(len) + " aad " +
                   std::to_string(aad_len));
      const Bytes key = random_bytes(rng, key_len), nonce = random_bytes(rng, 12),
                  aad = random_bytes(rng, aad_len), pt = random_bytes(rng, len);
      auto g = create(key);
      ASSERT_TRUE(g);
      const Sealed own = own_seal(*g, nonce, aad, pt);
      const Sealed ref = evp_seal(key, nonce, aad, pt);
      ASSERT_EQ(to_hex(own.ct), to_hex(ref.ct));
      ASSERT_EQ(to_hex(own.tag), to_hex(ref.tag));
      // Opened in place, from exactly sized buffers.
      auto buf = exact(ref.ct);
      auto a = exact(aad);
      ASSERT_TRUE(g->open(nonce.data(), a.get(), aad.size(), buf.get(), buf.get(), len, ref.tag.data()));
      ASSERT_EQ(to_hex(ByteView(buf.get(), len)), to_hex(pt));
      // One flipped bit in the ciphertext, the tag or the AAD: refused, and nothing decrypted.
      const std::size_t total_bits = (len + 16 + aad_len) * 8;
      const std::size_t bit = static_cast<std::size_t>(rng() % total_bits);
      Bytes ct = ref.ct, tag = ref.tag, aad2 = aad;
      std::uint8_t* target = bit / 8 < len        ? &ct[bit / 8]
                             : bit / 8 < len + 16 ? &tag[bit / 8 - len]
                                                  : &aad2[bit / 8 - len - 16];
      *target ^= static_cast<std::uint8_t>(1U << (bit % 8));
      auto bad = exact(ct);
      ASSERT_FALSE(g->open(nonce.data(), aad2.data(), aad2.size(), bad.get(), bad.get(), len, tag.data()));
      EXPECT_EQ(to_hex(ByteView(bad.get(), len)), to_hex(ct));
    }
  }
}

TEST_P(GcmVaesWidths, PiecesOnBlockBoundariesEqualOnePass) {
  std::mt19937_64 rng(7);
  const Bytes key = random_bytes(rng, 32), nonce = random_bytes(rng, 12), pt = random_bytes(rng, 1400);
  auto g = create(key);
  Bytes whole(pt.size()), pieces(pt.size());
  g->crypt_at(nonce.data(), 0, pt.data(), whole.data(), pt.size());
  for (std::size_t cut : {16U, 48U, 256U, 272U, 1392U}) {
    g->crypt_at(nonce.data(), 0, pt.data(), pieces.data(), cut);
    g->crypt_at(nonce.data(), cut, pt.data() + cut, pieces.data() + cut, pt.size() - cut);
    EXPECT_EQ(to_hex(pieces), to_hex(whole)) << cut;
  }
}

// ---- As ESP (RFC 4106) through EspCrypto ----------------------------------------------------

std::unique_ptr<EspCrypto> make(const Suite& s, const Bytes& keymat, EspCrypto::Role role,
                                EspCrypto::AeadPath path) {
  auto c = EspCrypto::create(s, SecretBytes(keymat), SecretBytes(), role, path);
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error());
  return c ? std::move(*c) : nullptr;
}

Bytes esp_seal(EspCrypto& c, ByteView inner, SequenceNumber seq, const Bytes& iv) {
  Bytes buf(c.sealed_bytes(inner.size()), 0xEE);
  std::copy(inner.begin(), inner.end(), buf.begin() + static_cast<std::ptrdiff_t>(c.header_bytes()));
  const std::size_t n =
      c.seal_with_iv(buf.data(), inner.size(), buf.size(), kNextHeaderIpv4, Spi(0xc0ffee01), seq, iv);
  EXPECT_EQ(n, buf.size());
  return buf;
}

TEST(GcmVaes, EspPacketsEqualOpenSslEvpAtEveryLengthWithAndWithoutEsn) {
  SKIP_WITHOUT_VAES();
  std::mt19937_64 rng(0xbb67ae8584caa73bULL);
  for (const char* name : {"aes128gcm16", "aes256gcm16"}) {
    for (bool esn : {false, true}) {  // AAD of 8 and 12 bytes, RFC 4106 §5
      Suite s = *Suite::parse(name);
      s.esn = esn;
      const Bytes keymat = random_bytes(rng, s.encr_key_bytes());  // key || salt
      auto own_out = make(s, keymat, EspCrypto::Role::Seal, EspCrypto::AeadPath::Fastest);
      auto own_in = make(s, keymat, EspCrypto::Role::Open, EspCrypto::AeadPath::Fastest);
      auto evp_out = make(s, keymat, EspCrypto::Role::Seal, EspCrypto::AeadPath::EvpOnly);
      auto evp_in = make(s, keymat, EspCrypto::Role::Open, EspCrypto::AeadPath::EvpOnly);
      ASSERT_TRUE(own_out->uses_own_gcm());
      ASSERT_TRUE(own_in->uses_own_gcm());
      ASSERT_FALSE(evp_out->uses_own_gcm());
      for (std::size_t len = 0; len <= 2100; ++len) {
        SCOPED_TRACE(std::string(name) + (esn ? " esn" : "") + " inner " + std::to_string(len));
        const Bytes inner = random_bytes(rng, len), iv = random_bytes(rng, 8);
        const SequenceNumber seq(rng());
        const Bytes own = esp_seal(*own_out, inner, seq, iv);
        const Bytes ref = esp_seal(*evp_out, inner, seq, iv);
        ASSERT_EQ(to_hex(own), to_hex(ref));
        Bytes a = ref, b = own;
        auto from_evp = own_in->open(a.data(), a.size(), seq);
        auto from_own = evp_in->open(b.data(), b.size(), seq);
        ASSERT_TRUE(from_evp && from_own);
        ASSERT_EQ(from_evp->inner_len, len);
        ASSERT_EQ(to_hex(ByteView(a.data() + from_evp->inner_offset, len)), to_hex(inner));
        // A flipped bit in SPI, sequence number, IV, ciphertext or ICV is refused.
        Bytes t = own;
        const std::size_t bit = static_cast<std::size_t>(rng() % (t.size() * 8));
        t[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
        auto r = own_in->open(t.data(), t.size(), seq);
        ASSERT_FALSE(r.has_value()) << "bit " << bit;
        EXPECT_EQ(r.error(), EspCrypto::OpenError::Authentication);
        if (esn) {  // the implicit high half is AAD too (RFC 4106 §5)
          Bytes u = own;
          ASSERT_FALSE(own_in->open(u.data(), u.size(), SequenceNumber(seq.value() ^ (1ULL << 40))));
        }
      }
    }
  }
}

TEST(GcmVaes, EveryFlippedBitOfSomeEspPacketsIsRefused) {
  SKIP_WITHOUT_VAES();
  Suite s = *Suite::parse("aes256gcm16");
  const Bytes keymat(s.encr_key_bytes(), 0x42);
  auto out = make(s, keymat, EspCrypto::Role::Seal, EspCrypto::AeadPath::Fastest);
  auto in = make(s, keymat, EspCrypto::Role::Open, EspCrypto::AeadPath::Fastest);
  for (std::size_t len : {0U, 1U, 14U, 30U, 250U, 254U, 1400U}) {
    const Bytes p = esp_seal(*out, Bytes(len, 0x61), SequenceNumber(9), Bytes(8, 3));
    for (std::size_t bit = 0; bit < p.size() * 8; ++bit) {
      Bytes t = p;
      t[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
      ASSERT_FALSE(in->open(t.data(), t.size(), SequenceNumber(9)).has_value()) << len << " bit " << bit;
    }
    Bytes ok = p;
    EXPECT_TRUE(in->open(ok.data(), ok.size(), SequenceNumber(9)).has_value());
  }
}

// The fallback: without the own code (OpenSsl, EvpOnly, AES-192, or a CPU without VAES) the same
// packets come out, through OpenSSL.
TEST(GcmVaes, OpenSslFallbackIsSelectedWhenAskedAndGivesTheSameBytes) {
  std::mt19937_64 rng(11);
  for (const char* name : {"aes128gcm16", "aes256gcm16", "aes192gcm16"}) {
    Suite s = *Suite::parse(name);
    const Bytes keymat = random_bytes(rng, s.encr_key_bytes());
    auto fastest = make(s, keymat, EspCrypto::Role::Seal, EspCrypto::AeadPath::Fastest);
    auto openssl = make(s, keymat, EspCrypto::Role::Seal, EspCrypto::AeadPath::OpenSsl);
    auto evp = make(s, keymat, EspCrypto::Role::Seal, EspCrypto::AeadPath::EvpOnly);
    EXPECT_FALSE(openssl->uses_own_gcm()) << name;
    EXPECT_TRUE(openssl->uses_provider_dispatch()) << name;
    EXPECT_FALSE(evp->uses_own_gcm()) << name;
    EXPECT_FALSE(evp->uses_provider_dispatch()) << name;
    const bool own_expected = GcmVaes::cpu_supported() && s.key_bits != 192;
    EXPECT_EQ(fastest->uses_own_gcm(), own_expected) << name;
    EXPECT_EQ(fastest->uses_provider_dispatch(), !own_expected) << name;
    for (std::size_t len : {0U, 63U, 64U, 1400U, 2000U}) {
      const Bytes inner = random_bytes(rng, len), iv = random_bytes(rng, 8);
      const Bytes a = esp_seal(*fastest, inner, SequenceNumber(len + 1), iv);
      EXPECT_EQ(to_hex(esp_seal(*openssl, inner, SequenceNumber(len + 1), iv)), to_hex(a))
          << name << " " << len;
      EXPECT_EQ(to_hex(esp_seal(*evp, inner, SequenceNumber(len + 1), iv)), to_hex(a)) << name << " " << len;
    }
  }
}

}  // namespace
}  // namespace natgate::esp
