#include "esp/crypto/gcm_vaes.h"

#include <cpuid.h>
#include <immintrin.h>
#include <openssl/crypto.h>

#include <cstring>
#include <new>

// Every function touching the vector units carries its own target attribute, so the rest of the
// project is still built for the baseline x86-64 and these run only after cpu_supported().
#define NATGATE_VAES __attribute__((target("avx512f,avx512bw,avx512vl,vaes,vpclmulqdq,aes,pclmul,ssse3")))
#define NATGATE_AESNI __attribute__((target("aes,pclmul,ssse3")))

namespace natgate::esp {

namespace {

// GHASH representation (NIST SP 800-38D §6.3). A block loaded with its 16 bytes reversed is an
// integer whose bit i is the coefficient of x^(127-i): a polynomial in y = x^-1. Carry-less
// products of two such values come out as R(ab)·y^127 modulo g(y) = y^128 + y^127 + y^126 +
// y^121 + 1 (the GCM polynomial with y = x^-1), so a Montgomery reduction (multiply by y^-128,
// two folds by the constant 0xc2 << 56 below) of a product with H·y instead of H gives R(ab)
// exactly. The key powers are kept as R(H^k)·y; montmul(R(H^k)·y, R(H)·y) = R(H^(k+1))·y.
constexpr std::uint64_t kReduce = 0xc200000000000000ULL;

NATGATE_AESNI inline __m128i bswap128(__m128i v) {
  return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

// lo/hi: the 256-bit carry-less product; returns it times y^-128 mod g.
NATGATE_AESNI inline __m128i reduce(__m128i lo, __m128i hi) {
  const __m128i k = _mm_set_epi64x(0, static_cast<long long>(kReduce));
  __m128i p = _mm_clmulepi64_si128(lo, k, 0x00);
  lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), p);
  p = _mm_clmulepi64_si128(lo, k, 0x00);
  lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), p);
  return _mm_xor_si128(hi, lo);
}

NATGATE_AESNI inline __m128i montmul(__m128i a, __m128i b) {
  __m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
  __m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
  const __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10));
  lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
  hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
  return reduce(lo, hi);
}

// FIPS 197 §5.2 key expansion with AESKEYGENASSIST (the immediate round constant forces macros).
NATGATE_AESNI inline __m128i expand_step(__m128i key, __m128i assist) {
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

NATGATE_AESNI void expand_key_128(const std::uint8_t* key, __m128i* rk) {
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
#define NATGATE_EXPAND128(i, rcon) \
  rk[(i)] = expand_step(rk[(i)-1], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[(i)-1], (rcon)), 0xff))
  NATGATE_EXPAND128(1, 0x01);
  NATGATE_EXPAND128(2, 0x02);
  NATGATE_EXPAND128(3, 0x04);
  NATGATE_EXPAND128(4, 0x08);
  NATGATE_EXPAND128(5, 0x10);
  NATGATE_EXPAND128(6, 0x20);
  NATGATE_EXPAND128(7, 0x40);
  NATGATE_EXPAND128(8, 0x80);
  NATGATE_EXPAND128(9, 0x1b);
  NATGATE_EXPAND128(10, 0x36);
#undef NATGATE_EXPAND128
}

NATGATE_AESNI void expand_key_256(const std::uint8_t* key, __m128i* rk) {
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  rk[1] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key + 16));
  // Even words take the rotated, substituted last word with the round constant; odd words the
  // substituted (not rotated) one, FIPS 197 §5.2 for Nk = 8.
#define NATGATE_EXPAND256(i, rcon)                                                                         \
  rk[(i)] = expand_step(rk[(i)-2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[(i)-1], (rcon)), 0xff)); \
  rk[(i) + 1] = expand_step(rk[(i)-1], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[(i)], 0), 0xaa))
  NATGATE_EXPAND256(2, 0x01);
  NATGATE_EXPAND256(4, 0x02);
  NATGATE_EXPAND256(6, 0x04);
  NATGATE_EXPAND256(8, 0x08);
  NATGATE_EXPAND256(10, 0x10);
  NATGATE_EXPAND256(12, 0x20);
  rk[14] = expand_step(rk[12], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[13], 0x40), 0xff));
#undef NATGATE_EXPAND256
}

NATGATE_AESNI __m128i encrypt_block(const __m128i* rk, int rounds, __m128i b) {
  b = _mm_xor_si128(b, rk[0]);
  for (int r = 1; r < rounds; ++r) b = _mm_aesenc_si128(b, rk[r]);
  return _mm_aesenclast_si128(b, rk[rounds]);
}

// ---- 512-bit paths -------------------------------------------------------------------------

// The same 128 bits in all four lanes. (The masked form: GCC 12's plain _mm512_broadcast_i32x4
// starts from an "undefined" vector that -Wuninitialized reports.)
NATGATE_VAES inline __m512i broadcast128(__m128i v) { return _mm512_maskz_broadcast_i32x4(0xffff, v); }

NATGATE_VAES inline __m512i bswap_lanes(__m512i v) {
  const __m512i m = broadcast128(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  return _mm512_shuffle_epi8(v, m);
}

NATGATE_VAES inline __mmask64 byte_mask(std::size_t n) { return n >= 64 ? ~0ULL : (1ULL << n) - 1; }

NATGATE_VAES inline __m128i fold_lanes(__m512i v) {
  v = _mm512_xor_si512(v, _mm512_maskz_shuffle_i64x2(0xff, v, v, 0x4e));  // lanes 0^2, 1^3
  v = _mm512_xor_si512(v, _mm512_maskz_shuffle_i64x2(0xff, v, v, 0xb1));  // then 0^1
  return _mm512_maskz_extracti32x4_epi32(0xf, v, 0);  // the cast form trips GCC 12 as broadcast128 says
}

// Four AES encryptions of four blocks each, interleaved (VAES latency is hidden behind the others).
template <int Rounds>
NATGATE_VAES inline void aes_x16(const __m512i* k, __m512i& a, __m512i& b, __m512i& c, __m512i& d) {
  a = _mm512_xor_si512(a, k[0]);
  b = _mm512_xor_si512(b, k[0]);
  c = _mm512_xor_si512(c, k[0]);
  d = _mm512_xor_si512(d, k[0]);
#pragma GCC unroll 14
  for (int r = 1; r < Rounds; ++r) {
    a = _mm512_aesenc_epi128(a, k[r]);
    b = _mm512_aesenc_epi128(b, k[r]);
    c = _mm512_aesenc_epi128(c, k[r]);
    d = _mm512_aesenc_epi128(d, k[r]);
  }
  a = _mm512_aesenclast_epi128(a, k[Rounds]);
  b = _mm512_aesenclast_epi128(b, k[Rounds]);
  c = _mm512_aesenclast_epi128(c, k[Rounds]);
  d = _mm512_aesenclast_epi128(d, k[Rounds]);
}

// SP 800-38D §6.5 GCTR from counter block nonce || first (big-endian), inc32 per block. The
// counters are kept byte-reversed so that the 32-bit counter is dword 0 of each lane and an
// epi32 add is inc32 (wrapping mod 2^32, as the standard says, without touching the nonce).
template <int Rounds>
NATGATE_VAES void ctr(const std::uint8_t* round_keys, const std::uint8_t* nonce, std::uint32_t first,
                      const std::uint8_t* in, std::uint8_t* out, std::size_t len) {
  __m512i k[Rounds + 1];
  for (int r = 0; r <= Rounds; ++r)
    k[r] = broadcast128(_mm_load_si128(reinterpret_cast<const __m128i*>(round_keys) + r));
  alignas(16) std::uint8_t j[16];
  std::memcpy(j, nonce, 12);
  j[12] = static_cast<std::uint8_t>(first >> 24);
  j[13] = static_cast<std::uint8_t>(first >> 16);
  j[14] = static_cast<std::uint8_t>(first >> 8);
  j[15] = static_cast<std::uint8_t>(first);
  const __m128i j_rev = bswap128(_mm_load_si128(reinterpret_cast<const __m128i*>(j)));
  __m512i c0 =
      _mm512_add_epi32(broadcast128(j_rev), _mm512_set_epi32(0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0));
  const __m512i inc4 = _mm512_set_epi32(0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4);
  const __m512i inc8 = _mm512_add_epi32(inc4, inc4);
  const __m512i inc12 = _mm512_add_epi32(inc8, inc4);
  const __m512i inc16 = _mm512_add_epi32(inc8, inc8);
  while (len >= 256) {
    __m512i a = bswap_lanes(c0), b = bswap_lanes(_mm512_add_epi32(c0, inc4)),
            c = bswap_lanes(_mm512_add_epi32(c0, inc8)), d = bswap_lanes(_mm512_add_epi32(c0, inc12));
    aes_x16<Rounds>(k, a, b, c, d);
    _mm512_storeu_si512(out, _mm512_xor_si512(a, _mm512_loadu_si512(in)));
    _mm512_storeu_si512(out + 64, _mm512_xor_si512(b, _mm512_loadu_si512(in + 64)));
    _mm512_storeu_si512(out + 128, _mm512_xor_si512(c, _mm512_loadu_si512(in + 128)));
    _mm512_storeu_si512(out + 192, _mm512_xor_si512(d, _mm512_loadu_si512(in + 192)));
    c0 = _mm512_add_epi32(c0, inc16);
    in += 256;
    out += 256;
    len -= 256;
  }
  if (len == 0) return;
  // The tail (< 256 bytes): four vectors of keystream cost about what one does (the rounds
  // overlap), and masked loads and stores touch only the len bytes that exist.
  __m512i ks[4] = {bswap_lanes(c0), bswap_lanes(_mm512_add_epi32(c0, inc4)),
                   bswap_lanes(_mm512_add_epi32(c0, inc8)), bswap_lanes(_mm512_add_epi32(c0, inc12))};
  aes_x16<Rounds>(k, ks[0], ks[1], ks[2], ks[3]);
  for (int i = 0; len != 0; ++i) {
    const std::size_t n = len < 64 ? len : 64;
    const __mmask64 m = byte_mask(n);
    _mm512_mask_storeu_epi8(out, m, _mm512_xor_si512(ks[i], _mm512_maskz_loadu_epi8(m, in)));
    in += n;
    out += n;
    len -= n;
  }
}

// Multiplies n (1..16) byte-reversed blocks by H^n .. H^1 and sums the 256-bit products lane-wise.
struct Products {
  __m512i lo, mid, hi;
};

NATGATE_VAES inline void mul_acc(Products& p, __m512i d, __m512i k) {
  p.lo = _mm512_xor_si512(p.lo, _mm512_clmulepi64_epi128(d, k, 0x00));
  p.hi = _mm512_xor_si512(p.hi, _mm512_clmulepi64_epi128(d, k, 0x11));
  p.mid = _mm512_xor_si512(
      p.mid, _mm512_xor_si512(_mm512_clmulepi64_epi128(d, k, 0x01), _mm512_clmulepi64_epi128(d, k, 0x10)));
}

NATGATE_VAES inline __m128i finish(const Products& p) {
  const __m128i mid = fold_lanes(p.mid);
  const __m128i lo = _mm_xor_si128(fold_lanes(p.lo), _mm_slli_si128(mid, 8));
  const __m128i hi = _mm_xor_si128(fold_lanes(p.hi), _mm_srli_si128(mid, 8));
  return reduce(lo, hi);
}

// SP 800-38D §6.4 GHASH over data (a trailing partial block zero-padded), continuing from x.
// Aggregated: X' = (X + C1)·H^16 + C2·H^15 + ... + C16·H, one reduction per 16 blocks.
NATGATE_VAES __m128i ghash(const std::uint8_t* powers, __m128i x, const std::uint8_t* data, std::size_t len) {
  while (len >= 256) {
    Products p{_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    const __m512i d0 = _mm512_xor_si512(bswap_lanes(_mm512_loadu_si512(data)), _mm512_zextsi128_si512(x));
    mul_acc(p, d0, _mm512_load_si512(powers));
    mul_acc(p, bswap_lanes(_mm512_loadu_si512(data + 64)), _mm512_load_si512(powers + 64));
    mul_acc(p, bswap_lanes(_mm512_loadu_si512(data + 128)), _mm512_load_si512(powers + 128));
    mul_acc(p, bswap_lanes(_mm512_loadu_si512(data + 192)), _mm512_load_si512(powers + 192));
    x = finish(p);
    data += 256;
    len -= 256;
  }
  if (len == 0) return x;
  const std::size_t blocks = (len + 15) / 16;
  const std::uint8_t* k = powers + (16 - blocks) * 16;
  Products p{_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  for (std::size_t off = 0; off < len; off += 64) {
    const std::size_t n = len - off < 64 ? len - off : 64;
    const std::size_t n_blocks = (n + 15) / 16;
    __m512i d = bswap_lanes(_mm512_maskz_loadu_epi8(byte_mask(n), data + off));
    if (off == 0) d = _mm512_xor_si512(d, _mm512_zextsi128_si512(x));
    const __mmask8 km = static_cast<__mmask8>((1U << (2 * n_blocks)) - 1);
    mul_acc(p, d, _mm512_maskz_loadu_epi64(km, k + off));
  }
  return finish(p);
}

// ---- 256-bit paths (AVX2 + VAES + VPCLMULQDQ, for CPUs without AVX-512) ----------------------
// The same algorithm on two blocks per vector: CTR and GHASH over 8 blocks per loop (H^8..H^1,
// the last half of the power table). Without AVX-512 there are no byte masks, so a tail goes
// through a zeroed stack buffer, copied in and out by exact lengths.

#define NATGATE_VAES256 __attribute__((target("avx2,vaes,vpclmulqdq,aes,pclmul,ssse3")))

NATGATE_VAES256 inline __m256i bswap_lanes256(__m256i v) {
  return _mm256_shuffle_epi8(
      v, _mm256_broadcastsi128_si256(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)));
}

template <int Rounds>
NATGATE_VAES256 inline void aes_x8(const __m256i* k, __m256i& a, __m256i& b, __m256i& c, __m256i& d) {
  a = _mm256_xor_si256(a, k[0]);
  b = _mm256_xor_si256(b, k[0]);
  c = _mm256_xor_si256(c, k[0]);
  d = _mm256_xor_si256(d, k[0]);
#pragma GCC unroll 14
  for (int r = 1; r < Rounds; ++r) {
    a = _mm256_aesenc_epi128(a, k[r]);
    b = _mm256_aesenc_epi128(b, k[r]);
    c = _mm256_aesenc_epi128(c, k[r]);
    d = _mm256_aesenc_epi128(d, k[r]);
  }
  a = _mm256_aesenclast_epi128(a, k[Rounds]);
  b = _mm256_aesenclast_epi128(b, k[Rounds]);
  c = _mm256_aesenclast_epi128(c, k[Rounds]);
  d = _mm256_aesenclast_epi128(d, k[Rounds]);
}

template <int Rounds>
NATGATE_VAES256 void ctr256(const std::uint8_t* round_keys, const std::uint8_t* nonce, std::uint32_t first,
                            const std::uint8_t* in, std::uint8_t* out, std::size_t len) {
  __m256i k[Rounds + 1];
  for (int r = 0; r <= Rounds; ++r)
    k[r] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(round_keys) + r));
  alignas(16) std::uint8_t j[16];
  std::memcpy(j, nonce, 12);
  j[12] = static_cast<std::uint8_t>(first >> 24);
  j[13] = static_cast<std::uint8_t>(first >> 16);
  j[14] = static_cast<std::uint8_t>(first >> 8);
  j[15] = static_cast<std::uint8_t>(first);
  const __m128i j_rev = bswap128(_mm_load_si128(reinterpret_cast<const __m128i*>(j)));
  __m256i c0 = _mm256_add_epi32(_mm256_broadcastsi128_si256(j_rev), _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0));
  const __m256i inc2 = _mm256_set_epi32(0, 0, 0, 2, 0, 0, 0, 2);
  const __m256i inc4 = _mm256_add_epi32(inc2, inc2);
  const __m256i inc6 = _mm256_add_epi32(inc4, inc2);
  const __m256i inc8 = _mm256_add_epi32(inc4, inc4);
  const auto keystream = [&](__m256i* ks) NATGATE_VAES256 {
    ks[0] = bswap_lanes256(c0);
    ks[1] = bswap_lanes256(_mm256_add_epi32(c0, inc2));
    ks[2] = bswap_lanes256(_mm256_add_epi32(c0, inc4));
    ks[3] = bswap_lanes256(_mm256_add_epi32(c0, inc6));
    aes_x8<Rounds>(k, ks[0], ks[1], ks[2], ks[3]);
  };
  while (len >= 128) {
    __m256i ks[4];
    keystream(ks);
    for (std::size_t i = 0; i < 4; ++i) {
      const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 32 * i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * i), _mm256_xor_si256(d, ks[i]));
    }
    c0 = _mm256_add_epi32(c0, inc8);
    in += 128;
    out += 128;
    len -= 128;
  }
  if (len == 0) return;
  alignas(32) std::uint8_t buf[128] = {};
  __m256i ks[4];
  keystream(ks);
  std::memcpy(buf, in, len);
  for (int i = 0; i < 4; ++i) {
    __m256i* p = reinterpret_cast<__m256i*>(buf) + i;
    _mm256_store_si256(p, _mm256_xor_si256(_mm256_load_si256(p), ks[i]));
  }
  std::memcpy(out, buf, len);
}

struct Products256 {
  __m256i lo, mid, hi;
};

NATGATE_VAES256 inline void mul_acc256(Products256& p, __m256i d, __m256i k) {
  p.lo = _mm256_xor_si256(p.lo, _mm256_clmulepi64_epi128(d, k, 0x00));
  p.hi = _mm256_xor_si256(p.hi, _mm256_clmulepi64_epi128(d, k, 0x11));
  p.mid = _mm256_xor_si256(
      p.mid, _mm256_xor_si256(_mm256_clmulepi64_epi128(d, k, 0x01), _mm256_clmulepi64_epi128(d, k, 0x10)));
}

NATGATE_VAES256 inline __m128i fold_lanes256(__m256i v) {
  return _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

// Up to 8 blocks (128 bytes) from data and the matching powers from keys, both 32-byte aligned.
NATGATE_VAES256 __m128i ghash_x8(const std::uint8_t* keys, __m128i x, const std::uint8_t* data) {
  Products256 p{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (std::size_t i = 0; i < 4; ++i) {
    __m256i d = bswap_lanes256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + 32 * i)));
    if (i == 0) d = _mm256_xor_si256(d, _mm256_inserti128_si256(_mm256_setzero_si256(), x, 0));
    mul_acc256(p, d, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(keys + 32 * i)));
  }
  const __m128i mid = fold_lanes256(p.mid);
  const __m128i lo = _mm_xor_si128(fold_lanes256(p.lo), _mm_slli_si128(mid, 8));
  const __m128i hi = _mm_xor_si128(fold_lanes256(p.hi), _mm_srli_si128(mid, 8));
  return reduce(lo, hi);
}

NATGATE_VAES256 __m128i ghash256(const std::uint8_t* powers, __m128i x, const std::uint8_t* data,
                                 std::size_t len) {
  while (len >= 128) {
    x = ghash_x8(powers + 128, x, data);  // H^8..H^1
    data += 128;
    len -= 128;
  }
  if (len == 0) return x;
  // The tail's n blocks take H^n..H^1; zero blocks with zero keys after them add nothing.
  const std::size_t blocks = (len + 15) / 16;
  alignas(32) std::uint8_t buf[128] = {};
  alignas(32) std::uint8_t keys[128] = {};
  std::memcpy(buf, data, len);
  std::memcpy(keys, powers + (16 - blocks) * 16, blocks * 16);
  x = ghash_x8(keys, x, buf);
  OPENSSL_cleanse(keys, sizeof keys);
  return x;
}

}  // namespace

bool GcmVaes::cpu_supported(Width width) {
  // CPUID and XGETBV directly rather than __builtin_cpu_supports: the same test GCC's runtime makes
  // (features present and the OS saving the vector state), but also understood by the clang that
  // the project's clang-tidy runs on, which does not know "vaes" / "vpclmulqdq".
  struct Found {
    bool ymm = false, zmm = false;
  };
  static const Found found = [] {
    Found f;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_max(0, nullptr) < 7 || __get_cpuid(1, &a, &b, &c, &d) == 0) return f;
    const bool ssse3 = (c & (1U << 9)) != 0, pclmul = (c & (1U << 1)) != 0, aes = (c & (1U << 25)) != 0;
    const bool osxsave = (c & (1U << 27)) != 0;
    if (!ssse3 || !pclmul || !aes || !osxsave) return f;
    // XCR0: SSE and AVX state (bits 1, 2); opmask, ZMM0-15 upper halves, ZMM16-31 (bits 5, 6, 7).
    unsigned xcr0_lo = 0, xcr0_hi = 0;
    __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    __cpuid_count(7, 0, a, b, c, d);
    const bool avx2 = (b & (1U << 5)) != 0, avx512f = (b & (1U << 16)) != 0, avx512bw = (b & (1U << 30)) != 0,
               avx512vl = (b & (1U << 31)) != 0;
    const bool vaes = (c & (1U << 9)) != 0, vpclmulqdq = (c & (1U << 10)) != 0;
    f.ymm = (xcr0_lo & 0x06U) == 0x06U && avx2 && vaes && vpclmulqdq;
    f.zmm = (xcr0_lo & 0xe6U) == 0xe6U && avx512f && avx512bw && avx512vl && vaes && vpclmulqdq;
    return f;
  }();
  return width == Width::Zmm512 ? found.zmm : found.ymm;
}

bool GcmVaes::cpu_supported() { return cpu_supported(Width::Zmm512) || cpu_supported(Width::Ymm256); }

namespace {

NATGATE_AESNI void key_setup(const std::uint8_t* key, std::size_t key_len, std::uint8_t* round_keys,
                             std::uint8_t* powers, int& rounds) {
  alignas(16) __m128i rk[15];
  if (key_len == 16) {
    expand_key_128(key, rk);
    rounds = 10;
  } else {
    expand_key_256(key, rk);
    rounds = 14;
  }
  for (int r = 0; r <= rounds; ++r) _mm_store_si128(reinterpret_cast<__m128i*>(round_keys) + r, rk[r]);
  // H = E(K, 0^128), SP 800-38D §6.4; then H·y mod g (a one-bit left shift of the reversed form,
  // folding the carry back in without a branch on the secret bit).
  const __m128i h = bswap128(encrypt_block(rk, rounds, _mm_setzero_si128()));
  alignas(16) std::uint64_t q[2];
  _mm_store_si128(reinterpret_cast<__m128i*>(q), h);
  const std::uint64_t carry = 0 - (q[1] >> 63);
  const std::uint64_t hi = (q[1] << 1) | (q[0] >> 63);
  const std::uint64_t lo = q[0] << 1;
  const __m128i h1 = _mm_set_epi64x(static_cast<long long>(hi ^ (carry & kReduce)),
                                    static_cast<long long>(lo ^ (carry & 1)));
  __m128i hk = h1;
  for (int i = 15; i >= 0; --i) {
    _mm_store_si128(reinterpret_cast<__m128i*>(powers) + i, hk);
    if (i > 0) hk = montmul(hk, h1);
  }
  OPENSSL_cleanse(rk, sizeof rk);
  OPENSSL_cleanse(q, sizeof q);
}

NATGATE_AESNI void finish_tag(const std::uint8_t* round_keys, int rounds, const std::uint8_t* nonce,
                              const std::uint8_t* powers, __m128i x, std::size_t aad_len, std::size_t len,
                              std::uint8_t* tag_out) {
  // SP 800-38D §7.1 steps 5-6: the length block, then T = MSB(GCTR(J0, S)), J0 = nonce || 1.
  const std::uint64_t aad_bits = std::uint64_t{aad_len} << 3, bits = std::uint64_t{len} << 3;
  const __m128i lengths = _mm_set_epi64x(static_cast<long long>(aad_bits), static_cast<long long>(bits));
  x = montmul(_mm_xor_si128(x, lengths), _mm_load_si128(reinterpret_cast<const __m128i*>(powers) + 15));
  alignas(16) std::uint8_t j0[16] = {};
  std::memcpy(j0, nonce, 12);
  j0[15] = 1;
  const __m128i e = encrypt_block(reinterpret_cast<const __m128i*>(round_keys), rounds,
                                  _mm_load_si128(reinterpret_cast<const __m128i*>(j0)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag_out), _mm_xor_si128(bswap128(x), e));
}

NATGATE_VAES void compute_tag(const std::uint8_t* round_keys, int rounds, const std::uint8_t* powers,
                              const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
                              const std::uint8_t* ct, std::size_t len, std::uint8_t* tag_out) {
  __m128i x = _mm_setzero_si128();
  x = ghash(powers, x, aad, aad_len);
  x = ghash(powers, x, ct, len);
  finish_tag(round_keys, rounds, nonce, powers, x, aad_len, len, tag_out);
}

NATGATE_VAES256 void compute_tag256(const std::uint8_t* round_keys, int rounds, const std::uint8_t* powers,
                                    const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
                                    const std::uint8_t* ct, std::size_t len, std::uint8_t* tag_out) {
  __m128i x = _mm_setzero_si128();
  x = ghash256(powers, x, aad, aad_len);
  x = ghash256(powers, x, ct, len);
  finish_tag(round_keys, rounds, nonce, powers, x, aad_len, len, tag_out);
}

}  // namespace

std::unique_ptr<GcmVaes> GcmVaes::create(const std::uint8_t* key, std::size_t key_len) {
  return create(key, key_len, cpu_supported(Width::Zmm512) ? Width::Zmm512 : Width::Ymm256);
}

std::unique_ptr<GcmVaes> GcmVaes::create(const std::uint8_t* key, std::size_t key_len, Width width) {
  if (!cpu_supported(width) || (key_len != 16 && key_len != 32)) return nullptr;
  std::unique_ptr<GcmVaes> g(new (std::nothrow) GcmVaes());
  if (!g) return nullptr;
  g->width_ = width;
  key_setup(key, key_len, g->round_keys_, g->powers_, g->rounds_);
  return g;
}

GcmVaes::~GcmVaes() {
  OPENSSL_cleanse(round_keys_, sizeof round_keys_);
  OPENSSL_cleanse(powers_, sizeof powers_);
}

void GcmVaes::crypt_at(const std::uint8_t* nonce, std::size_t offset, const std::uint8_t* in,
                       std::uint8_t* out, std::size_t len) const {
  // Block 1 of the counter is J0 (the tag's mask); the message starts at counter 2.
  const auto first = static_cast<std::uint32_t>(2 + offset / 16);
  if (width_ == Width::Zmm512) {
    if (rounds_ == 10)
      ctr<10>(round_keys_, nonce, first, in, out, len);
    else
      ctr<14>(round_keys_, nonce, first, in, out, len);
  } else {
    if (rounds_ == 10)
      ctr256<10>(round_keys_, nonce, first, in, out, len);
    else
      ctr256<14>(round_keys_, nonce, first, in, out, len);
  }
}

void GcmVaes::tag(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
                  const std::uint8_t* ct, std::size_t len, std::uint8_t* tag_out) const {
  if (width_ == Width::Zmm512)
    compute_tag(round_keys_, rounds_, powers_, nonce, aad, aad_len, ct, len, tag_out);
  else
    compute_tag256(round_keys_, rounds_, powers_, nonce, aad, aad_len, ct, len, tag_out);
}

void GcmVaes::seal(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
                   const std::uint8_t* in, std::uint8_t* out, std::size_t len, std::uint8_t* tag_out) const {
  crypt_at(nonce, 0, in, out, len);
  tag(nonce, aad, aad_len, out, len, tag_out);
}

bool GcmVaes::open(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len,
                   const std::uint8_t* in, std::uint8_t* out, std::size_t len,
                   const std::uint8_t* tag_in) const {
  std::uint8_t expected[kTagBytes];
  tag(nonce, aad, aad_len, in, len, expected);
  const bool ok = CRYPTO_memcmp(expected, tag_in, kTagBytes) == 0;
  OPENSSL_cleanse(expected, sizeof expected);
  if (!ok) return false;
  crypt_at(nonce, 0, in, out, len);
  return true;
}

}  // namespace natgate::esp
