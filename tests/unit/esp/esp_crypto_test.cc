// ESP packet protection against independent vectors: RFC 7634 Appendix A exactly, and packets
// built by make_esp_vectors.py (a separate Python implementation of the RFC 4303 framing on the
// `cryptography` package) for AES-GCM-16, ChaCha20-Poly1305 and AES-CBC + HMAC-SHA-2, with and
// without ESN.
#include "esp/crypto/esp_crypto.h"

#include <gtest/gtest.h>

#include <string>

#include "common/bytes.h"
#include "esp/crypto/suite.h"

namespace natgate::esp {
namespace {

struct Vector {
  const char* name;
  const char* suite;
  bool esn;
  std::uint32_t spi;
  std::uint64_t seq;
  Bytes iv;
  Bytes encr;
  Bytes integ;
  Bytes inner;
  int next_header;
  Bytes packet;
};

const Vector kVectors[] = {
#include "esp_vectors.inc"
};

Suite suite_of(const Vector& v) {
  auto s = Suite::parse(v.suite);
  EXPECT_TRUE(s.has_value()) << v.suite;
  Suite suite = *s;
  suite.esn = v.esn;
  return suite;
}

std::unique_ptr<EspCrypto> make(const Suite& s, const Bytes& encr, const Bytes& integ, EspCrypto::Role role,
                                EspCrypto::AeadPath path = EspCrypto::AeadPath::Fastest) {
  auto c = EspCrypto::create(s, SecretBytes(encr), SecretBytes(integ), role, path);
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error());
  return c ? std::move(*c) : nullptr;
}

// Seals `inner` in a buffer laid out as the engine does: inner at header_bytes().
Bytes seal(EspCrypto& c, ByteView inner, std::uint8_t nh, Spi spi, SequenceNumber seq,
           const Bytes* iv = nullptr) {
  Bytes buf(c.sealed_bytes(inner.size()) + 64, 0xEE);
  std::copy(inner.begin(), inner.end(), buf.begin() + static_cast<std::ptrdiff_t>(c.header_bytes()));
  std::size_t n = iv ? c.seal_with_iv(buf.data(), inner.size(), buf.size(), nh, spi, seq, *iv)
                     : c.seal(buf.data(), inner.size(), buf.size(), nh, spi, seq);
  EXPECT_EQ(n, c.sealed_bytes(inner.size()));
  buf.resize(n);
  return buf;
}

TEST(EspCrypto, Rfc7634AppendixAEspExampleSealsAndOpensExactly) {
  // RFC 7634 Appendix A: SPI 0x01020304, sequence number 5, IV 10..17, KEYMAT 80..9f || a0a1a2a3,
  // an 84-byte ICMP echo from 198.51.100.5 to 192.0.2.5, Next Header 4.
  const Bytes keymat = hex_bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3");
  const Bytes inner = hex_bytes(
      "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec100007362708090a0b0c0d0e0f1011121314"
      "15161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
  const Bytes iv = hex_bytes("1011121314151617");
  const Bytes expected = hex_bytes(
      "0102030400000005 1011121314151617"
      "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c614ee8099d52844eb61aa95dfab4c02f7"
      "2aa71e7c4c4f64c9befe2facc638e8f3cbec163fac469b502773f6fb94e664da9165b82829f641e0"
      "76aaa8266b7fb0f7b11b369907e1ad43");
  Suite s = *Suite::parse("chacha20poly1305");
  auto out = make(s, keymat, {}, EspCrypto::Role::Seal);
  EXPECT_EQ(to_hex(seal(*out, inner, kNextHeaderIpv4, Spi(0x01020304), SequenceNumber(5), &iv)),
            to_hex(expected));

  auto in = make(s, keymat, {}, EspCrypto::Role::Open);
  Bytes packet = expected;
  auto opened = in->open(packet.data(), packet.size(), SequenceNumber(5));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->next_header, kNextHeaderIpv4);
  EXPECT_EQ(to_hex(ByteView(packet.data() + opened->inner_offset, opened->inner_len)), to_hex(inner));
}

// Every way to the AEAD cipher (natgate's own AES-GCM where the CPU has VAES, the default;
// OpenSSL's provider dispatch; plain EVP) must agree with the vectors.
class EspCryptoPaths : public ::testing::TestWithParam<EspCrypto::AeadPath> {};
INSTANTIATE_TEST_SUITE_P(AeadPath, EspCryptoPaths,
                         ::testing::Values(EspCrypto::AeadPath::Fastest, EspCrypto::AeadPath::OpenSsl,
                                           EspCrypto::AeadPath::EvpOnly));

TEST_P(EspCryptoPaths, SealMatchesIndependentVectors) {
  for (const auto& v : kVectors) {
    if (std::string(v.name).rfind("bad_", 0) == 0) continue;
    SCOPED_TRACE(v.name);
    auto c = make(suite_of(v), v.encr, v.integ, EspCrypto::Role::Seal, GetParam());
    ASSERT_TRUE(c);
    Bytes got =
        seal(*c, v.inner, static_cast<std::uint8_t>(v.next_header), Spi(v.spi), SequenceNumber(v.seq), &v.iv);
    EXPECT_EQ(to_hex(got), to_hex(v.packet));
  }
}

// seal_gather: the head of the inner packet in place, the rest read from another buffer and
// encrypted into place in the same pass. Every split point must give the vector's bytes.
Bytes seal_gathered(EspCrypto& c, ByteView inner, std::size_t split, std::uint8_t nh, Spi spi,
                    SequenceNumber seq, const Bytes* iv = nullptr) {
  Bytes buf(c.sealed_bytes(inner.size()) + 64, 0xEE);
  std::copy(inner.begin(), inner.begin() + static_cast<std::ptrdiff_t>(split),
            buf.begin() + static_cast<std::ptrdiff_t>(c.header_bytes()));
  const Bytes tail(inner.begin() + static_cast<std::ptrdiff_t>(split), inner.end());  // its own buffer
  const std::size_t n =
      iv ? c.seal_gather_with_iv(buf.data(), split, tail.data(), tail.size(), buf.size(), nh, spi, seq, *iv)
         : c.seal_gather(buf.data(), split, tail.data(), tail.size(), buf.size(), nh, spi, seq);
  EXPECT_EQ(n, c.sealed_bytes(inner.size()));
  buf.resize(n);
  return buf;
}

TEST_P(EspCryptoPaths, GatheredSealMatchesIndependentVectorsAtEverySplit) {
  for (const auto& v : kVectors) {
    if (std::string(v.name).rfind("bad_", 0) == 0) continue;
    SCOPED_TRACE(v.name);
    auto c = make(suite_of(v), v.encr, v.integ, EspCrypto::Role::Seal, GetParam());
    ASSERT_TRUE(c);
    for (std::size_t split = 0; split <= v.inner.size(); ++split) {
      SCOPED_TRACE(split);
      Bytes got = seal_gathered(*c, v.inner, split, static_cast<std::uint8_t>(v.next_header), Spi(v.spi),
                                SequenceNumber(v.seq), &v.iv);
      ASSERT_EQ(to_hex(got), to_hex(v.packet));
    }
  }
}

TEST_P(EspCryptoPaths, GatheredSealOfFullSizedPacketsEqualsInPlaceSeal) {
  // Segments as the outbound path seals them: 40 to 52 header bytes in place, ~1400 payload bytes
  // from the super-packet; also the whole packet from outside (non-GSO path).
  Bytes inner(1400);
  for (std::size_t i = 0; i < inner.size(); ++i) inner[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (const char* name : {"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256", "null"}) {
    SCOPED_TRACE(name);
    Suite s = *Suite::parse(name, true);
    const Bytes ek(s.encr_key_bytes(), 0x42), ik(s.integ_key_bytes(), 0x24);
    auto c = make(s, ek, ik, EspCrypto::Role::Seal, GetParam());
    auto o = make(s, ek, ik, EspCrypto::Role::Open, GetParam());
    ASSERT_TRUE(c && o);
    const Bytes iv(c->header_bytes() - kEspHeaderBytes, 0x5C);
    const Bytes expected = seal(*c, inner, kNextHeaderIpv4, Spi(0x1234), SequenceNumber(77), &iv);
    for (std::size_t split : {0, 1, 15, 16, 17, 40, 52, 1399, 1400}) {
      SCOPED_TRACE(split);
      Bytes got = seal_gathered(*c, inner, split, kNextHeaderIpv4, Spi(0x1234), SequenceNumber(77), &iv);
      ASSERT_EQ(to_hex(got), to_hex(expected));
    }
    // Without a chosen IV (the AEAD IV is the sequence number), and the receiver opens it.
    Bytes packet = seal_gathered(*c, inner, 52, kNextHeaderIpv4, Spi(0x1234), SequenceNumber(78));
    auto opened = o->open(packet.data(), packet.size(), SequenceNumber(78));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(to_hex(ByteView(packet.data() + opened->inner_offset, opened->inner_len)), to_hex(inner));
  }
}

TEST(EspCrypto, GatheredSealRefusesATailOverlappingWhatItWrites) {
  Suite s = *Suite::parse("aes256gcm16");
  auto c = make(s, Bytes(s.encr_key_bytes(), 1), {}, EspCrypto::Role::Seal);
  ASSERT_TRUE(c);
  Bytes buf(2048, 0);
  const std::size_t h = c->header_bytes();
  // A tail inside the output (OpenSSL allows only in == out or disjoint buffers).
  EXPECT_EQ(c->seal_gather(buf.data(), 0, buf.data() + h + 8, 100, buf.size(), 4, Spi(1), SequenceNumber(1)),
            0u);
  EXPECT_EQ(
      c->seal_gather(buf.data() + 64, 0, buf.data(), 100, buf.size() - 64, 4, Spi(1), SequenceNumber(1)), 0u);
  // Right after what the seal writes is fine.
  const std::size_t total = c->sealed_bytes(100);
  EXPECT_EQ(c->seal_gather(buf.data(), 0, buf.data() + total, 100, total, 4, Spi(1), SequenceNumber(1)),
            total);
  // No tail pointer with a tail length.
  EXPECT_EQ(c->seal_gather(buf.data(), 0, nullptr, 100, buf.size(), 4, Spi(1), SequenceNumber(2)), 0u);
}

TEST_P(EspCryptoPaths, OpenRecoversInnerPacketFromIndependentVectors) {
  for (const auto& v : kVectors) {
    if (std::string(v.name).rfind("bad_", 0) == 0) continue;
    SCOPED_TRACE(v.name);
    auto c = make(suite_of(v), v.encr, v.integ, EspCrypto::Role::Open, GetParam());
    ASSERT_TRUE(c);
    Bytes packet = v.packet;
    auto opened = c->open(packet.data(), packet.size(), SequenceNumber(v.seq));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(opened->next_header, v.next_header);
    EXPECT_EQ(to_hex(ByteView(packet.data() + opened->inner_offset, opened->inner_len)), to_hex(v.inner));
  }
}

TEST_P(EspCryptoPaths, TamperedPacketFailsOnBothPaths) {
  for (const char* name : {"aes256gcm16", "chacha20poly1305"}) {
    Suite s = *Suite::parse(name);
    Bytes ek(s.encr_key_bytes(), 0x19);
    auto out = make(s, ek, {}, EspCrypto::Role::Seal, GetParam());
    auto in = make(s, ek, {}, EspCrypto::Role::Open, GetParam());
    Bytes p = seal(*out, Bytes(300, 4), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(3));
    p[100] ^= 0x04;
    auto r = in->open(p.data(), p.size(), SequenceNumber(3));
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error(), EspCrypto::OpenError::Authentication);
  }
}

TEST(EspCrypto, AeadSuitesUseTheProviderDispatchPath) {
  // The fast path is what the engine relies on for its throughput; a silent fallback to EVP
  // would cost ~20% per packet (docs/performance.md).
  for (const char* name : {"aes128gcm16", "aes256gcm16", "chacha20poly1305"}) {
    Suite s = *Suite::parse(name);
    auto c = make(s, Bytes(s.encr_key_bytes(), 1), {}, EspCrypto::Role::Seal, EspCrypto::AeadPath::OpenSsl);
    EXPECT_TRUE(c->uses_provider_dispatch()) << name;
    // The default path is never plain EVP: natgate's own AES-GCM or the provider dispatch.
    auto fastest = make(s, Bytes(s.encr_key_bytes(), 1), {}, EspCrypto::Role::Seal);
    EXPECT_TRUE(fastest->uses_own_gcm() || fastest->uses_provider_dispatch()) << name;
    auto evp = make(s, Bytes(s.encr_key_bytes(), 1), {}, EspCrypto::Role::Open, EspCrypto::AeadPath::EvpOnly);
    EXPECT_FALSE(evp->uses_provider_dispatch()) << name;
  }
}

TEST(EspCrypto, AeadIvIsTheSequenceNumber) {
  Suite s = *Suite::parse("aes256gcm16");
  auto c = make(s, Bytes(36, 7), {}, EspCrypto::Role::Seal);
  Bytes p = seal(*c, Bytes(100, 1), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(0x1234));
  EXPECT_EQ(to_hex(ByteView(p.data(), 16)),
            "000010000000123400000000"
            "00001234");
}

TEST(EspCrypto, CbcIvsAreFreshPerPacket) {
  Suite s = *Suite::parse("aes128-sha256");
  auto c = make(s, Bytes(16, 7), Bytes(32, 9), EspCrypto::Role::Seal);
  Bytes a = seal(*c, Bytes(40, 1), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(1));
  Bytes b = seal(*c, Bytes(40, 1), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(2));
  EXPECT_NE(to_hex(ByteView(a.data() + 8, 16)), to_hex(ByteView(b.data() + 8, 16)));
}

TEST(EspCrypto, PaddingAlignsToFourForAeadAndSixteenForCbc) {
  auto gcm = make(*Suite::parse("aes128gcm16"), Bytes(20, 1), {}, EspCrypto::Role::Seal);
  // 8 header + 8 IV + align4(61 + 2) = 64 + 16 ICV.
  EXPECT_EQ(gcm->sealed_bytes(61), 8u + 8 + 64 + 16);
  EXPECT_EQ(gcm->sealed_bytes(62), 8u + 8 + 64 + 16);
  EXPECT_EQ(gcm->sealed_bytes(63), 8u + 8 + 68 + 16);
  auto cbc = make(*Suite::parse("aes256-sha512"), Bytes(32, 1), Bytes(64, 2), EspCrypto::Role::Seal);
  EXPECT_EQ(cbc->sealed_bytes(61), 8u + 16 + 64 + 32);
  EXPECT_EQ(cbc->sealed_bytes(62), 8u + 16 + 64 + 32);
  EXPECT_EQ(cbc->sealed_bytes(63), 8u + 16 + 80 + 32);
  // max_inner_bytes is the inverse: the largest inner packet that still fits.
  for (std::size_t budget = 40; budget < 1600; ++budget) {
    for (auto* c : {gcm.get(), cbc.get()}) {
      std::size_t m = c->max_inner_bytes(budget);
      if (m == 0) continue;
      EXPECT_LE(c->sealed_bytes(m), budget);
      EXPECT_GT(c->sealed_bytes(m + 1), budget);
    }
  }
}

TEST(EspCrypto, RoundTripsEverySuiteWithAndWithoutEsn) {
  for (const char* name : {"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256", "aes256-sha384",
                           "aes256-sha512", "aes256-sha1"}) {
    for (bool esn : {false, true}) {
      SCOPED_TRACE(std::string(name) + (esn ? " esn" : ""));
      Suite s = *Suite::parse(name);
      s.esn = esn;
      Bytes ek(s.encr_key_bytes(), 0x5a), ik(s.integ_key_bytes(), 0xa5);
      auto out = make(s, ek, ik, EspCrypto::Role::Seal);
      auto in = make(s, ek, ik, EspCrypto::Role::Open);
      for (std::size_t len : {0u, 1u, 20u, 63u, 64u, 1400u}) {
        Bytes inner(len);
        for (std::size_t i = 0; i < len; ++i) inner[i] = static_cast<std::uint8_t>(i * 7);
        const SequenceNumber seq(esn ? 0x00000003fffffff0ull + len : 100 + len);
        Bytes p = seal(*out, inner, kNextHeaderIpv6, Spi(0xabcdef01), seq);
        auto opened = in->open(p.data(), p.size(), seq);
        ASSERT_TRUE(opened.has_value()) << len;
        EXPECT_EQ(opened->next_header, kNextHeaderIpv6);
        EXPECT_EQ(to_hex(ByteView(p.data() + opened->inner_offset, opened->inner_len)), to_hex(inner));
      }
    }
  }
}

TEST(EspCrypto, LazyContextsComeWithTheFirstPacketAndAfterReleaseGiveTheSameBytes) {
  // docs/performance.md, "Scale: memory per road warrior": an idle SA keeps its keys, not its
  // contexts. Whatever is released and rebuilt, the packets are those of an always-keyed SA.
  for (const char* name : {"aes256gcm16", "chacha20poly1305", "aes128-sha256"}) {
    SCOPED_TRACE(name);
    const Suite s = *Suite::parse(name);
    const Bytes ek(s.encr_key_bytes(), 0x3c), ik(s.integ_key_bytes(), 0xc3);
    auto lazy = [&](EspCrypto::Role role) {
      auto c = EspCrypto::create(s, SecretBytes(ek), SecretBytes(ik), role, EspCrypto::AeadPath::Fastest,
                                 EspCrypto::Keying::Lazy);
      EXPECT_TRUE(c.has_value());
      return std::move(*c);
    };
    auto out = lazy(EspCrypto::Role::Seal);
    auto in = lazy(EspCrypto::Role::Open);
    auto eager_out = make(s, ek, ik, EspCrypto::Role::Seal);
    EXPECT_FALSE(out->keyed());
    EXPECT_FALSE(in->keyed());
    EXPECT_TRUE(eager_out->keyed());
    const Bytes inner(300, 0x42);
    const Bytes iv(s.iv_bytes(), 0x77);  // fixed, so that CBC output can be compared too
    for (std::uint64_t n = 1; n <= 3; ++n) {
      const SequenceNumber seq(n);
      const Bytes p = seal(*out, inner, kNextHeaderIpv4, Spi(0x4242), seq, &iv);
      EXPECT_TRUE(out->keyed()) << "the first packet keys the contexts up";
      EXPECT_EQ(to_hex(p), to_hex(seal(*eager_out, inner, kNextHeaderIpv4, Spi(0x4242), seq, &iv)));
      Bytes q = p;
      auto opened = in->open(q.data(), q.size(), seq);
      ASSERT_TRUE(opened.has_value()) << n;
      EXPECT_TRUE(in->keyed());
      EXPECT_EQ(to_hex(ByteView(q.data() + opened->inner_offset, opened->inner_len)), to_hex(inner));
      // A forged packet after a release still fails: the rebuilt context has the same key.
      out->release();
      in->release();
      EXPECT_FALSE(out->keyed());
      EXPECT_FALSE(in->keyed());
      Bytes forged = p;
      forged.back() ^= 1;
      EXPECT_FALSE(in->open(forged.data(), forged.size(), seq).has_value());
      in->release();
    }
  }
}

TEST(EspCrypto, LazyCreateStillRefusesWhatItCannotKey) {
  auto c = EspCrypto::create(*Suite::parse("aes256gcm16"), SecretBytes(Bytes(35, 1)), SecretBytes(),
                             EspCrypto::Role::Seal, EspCrypto::AeadPath::Fastest, EspCrypto::Keying::Lazy);
  ASSERT_FALSE(c.has_value());
}

TEST(EspCrypto, TamperedBytesAnywhereFailAuthentication) {
  for (const char* name : {"aes128gcm16", "chacha20poly1305", "aes128-sha256"}) {
    SCOPED_TRACE(name);
    Suite s = *Suite::parse(name);
    Bytes ek(s.encr_key_bytes(), 0x11), ik(s.integ_key_bytes(), 0x22);
    auto out = make(s, ek, ik, EspCrypto::Role::Seal);
    auto in = make(s, ek, ik, EspCrypto::Role::Open);
    const Bytes p = seal(*out, Bytes(100, 3), kNextHeaderIpv4, Spi(0x1000), SequenceNumber(9));
    // SPI, sequence number, IV, ciphertext, ICV: every byte is covered.
    for (std::size_t at : {std::size_t{0}, std::size_t{5}, std::size_t{9}, std::size_t{40}, p.size() - 1}) {
      Bytes t = p;
      t[at] ^= 0x01;
      auto opened = in->open(t.data(), t.size(), SequenceNumber(9));
      ASSERT_FALSE(opened.has_value()) << at;
      EXPECT_EQ(opened.error(), EspCrypto::OpenError::Authentication) << at;
    }
  }
}

TEST(EspCrypto, WrongEsnHighHalfFailsAuthentication) {
  // The high 32 bits are never sent, so a receiver that guesses them wrong must see an ICV failure.
  for (const char* name : {"aes256gcm16", "chacha20poly1305", "aes256-sha384"}) {
    SCOPED_TRACE(name);
    Suite s = *Suite::parse(name);
    s.esn = true;
    Bytes ek(s.encr_key_bytes(), 0x33), ik(s.integ_key_bytes(), 0x44);
    auto out = make(s, ek, ik, EspCrypto::Role::Seal);
    auto in = make(s, ek, ik, EspCrypto::Role::Open);
    Bytes p = seal(*out, Bytes(64, 3), kNextHeaderIpv4, Spi(0x1000), SequenceNumber::from_parts(2, 5));
    auto opened = in->open(p.data(), p.size(), SequenceNumber::from_parts(1, 5));
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error(), EspCrypto::OpenError::Authentication);
  }
}

TEST(EspCrypto, AuthenticPacketWithWrongPaddingIsRejected) {
  for (const auto& v : kVectors) {
    if (std::string(v.name).rfind("bad_", 0) != 0) continue;
    SCOPED_TRACE(v.name);
    auto c = make(suite_of(v), v.encr, v.integ, EspCrypto::Role::Open);
    Bytes packet = v.packet;
    auto opened = c->open(packet.data(), packet.size(), SequenceNumber(v.seq));
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error(), EspCrypto::OpenError::BadPadding);
  }
}

TEST(EspCrypto, TruncatedOrMisalignedPacketsAreMalformed) {
  Suite gcm = *Suite::parse("aes128gcm16");
  auto in = make(gcm, Bytes(20, 1), {}, EspCrypto::Role::Open);
  Bytes tiny(8 + 8 + 16 + 1, 0);  // one byte short of the smallest payload (pad length + next header)
  auto r = in->open(tiny.data(), tiny.size(), SequenceNumber(1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), EspCrypto::OpenError::Malformed);

  Suite cbc = *Suite::parse("aes128-sha256");
  auto in_cbc = make(cbc, Bytes(16, 1), Bytes(32, 1), EspCrypto::Role::Open);
  Bytes odd(8 + 16 + 17 + 16, 0);  // ciphertext not a whole number of AES blocks
  r = in_cbc->open(odd.data(), odd.size(), SequenceNumber(1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), EspCrypto::OpenError::Malformed);
}

TEST(EspCrypto, WrongKeyLengthsAreRefusedWithAReason) {
  auto c = EspCrypto::create(*Suite::parse("aes256gcm16"), SecretBytes(Bytes(32, 1)), SecretBytes(),
                             EspCrypto::Role::Seal);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("36 bytes"), std::string::npos) << c.error();
}

TEST(Suite, FromNegotiatedTransform) {
  dataplane::EspTransform t;
  t.encr = iana::EncrId::AesCbc;
  t.encr_key_bits = 256;
  t.integ = iana::IntegId::HmacSha2_384_192;
  t.esn = true;
  auto s = Suite::from_transform(t);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name(), "aes256-sha384-esn");
  EXPECT_EQ(s->icv_bytes(), 24u);
  EXPECT_EQ(s->encr_key_bytes(), t.encr_keymat_bytes());
  EXPECT_EQ(s->integ_key_bytes(), t.integ_keymat_bytes());

  t.integ = iana::IntegId::None;
  EXPECT_FALSE(Suite::from_transform(t).has_value());  // CBC without integrity is refused
  t.encr = iana::EncrId::AesGcm16;
  t.encr_key_bits = 128;
  ASSERT_TRUE(Suite::from_transform(t).has_value());
  EXPECT_EQ(Suite::from_transform(t)->encr_key_bytes(), t.encr_keymat_bytes());
}

TEST(Suite, NullSuiteOnlyWhenAskedForBenchmarks) {
  EXPECT_FALSE(Suite::parse("null").has_value());
  ASSERT_TRUE(Suite::parse("null", true).has_value());
  EXPECT_EQ(Suite::parse("null", true)->cipher, CipherKind::NullForBenchmark);
}

}  // namespace
}  // namespace natgate::esp
