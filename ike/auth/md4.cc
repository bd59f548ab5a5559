#include "ike/auth/md4.h"

#include <cstring>

namespace natgate::ike {

namespace {

constexpr std::uint32_t rotl(std::uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }
constexpr std::uint32_t f(std::uint32_t x, std::uint32_t y, std::uint32_t z) { return (x & y) | (~x & z); }
constexpr std::uint32_t g(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
  return (x & y) | (x & z) | (y & z);
}
constexpr std::uint32_t h(std::uint32_t x, std::uint32_t y, std::uint32_t z) { return x ^ y ^ z; }

// RFC 1320 §3.4: one 64-octet block, words read little-endian.
void compress(std::uint32_t state[4], const std::uint8_t block[64]) {
  std::uint32_t x[16];
  for (std::size_t i = 0; i < 16; ++i)
    x[i] = static_cast<std::uint32_t>(block[4 * i]) | (static_cast<std::uint32_t>(block[4 * i + 1]) << 8) |
           (static_cast<std::uint32_t>(block[4 * i + 2]) << 16) |
           (static_cast<std::uint32_t>(block[4 * i + 3]) << 24);
  std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];

  // Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s, k in order, s = 3 7 11 19.
  constexpr int s1[4] = {3, 7, 11, 19};
  for (int i = 0; i < 16; i += 4) {
    a = rotl(a + f(b, c, d) + x[i], s1[0]);
    d = rotl(d + f(a, b, c) + x[i + 1], s1[1]);
    c = rotl(c + f(d, a, b) + x[i + 2], s1[2]);
    b = rotl(b + f(c, d, a) + x[i + 3], s1[3]);
  }
  // Round 2: k = 0 4 8 12, 1 5 9 13, ...; constant 5A827999; s = 3 5 9 13.
  constexpr std::uint32_t k2 = 0x5a827999;
  for (int i = 0; i < 4; ++i) {
    a = rotl(a + g(b, c, d) + x[i] + k2, 3);
    d = rotl(d + g(a, b, c) + x[i + 4] + k2, 5);
    c = rotl(c + g(d, a, b) + x[i + 8] + k2, 9);
    b = rotl(b + g(c, d, a) + x[i + 12] + k2, 13);
  }
  // Round 3: k = 0 8 4 12, 2 10 6 14, 1 9 5 13, 3 11 7 15; constant 6ED9EBA1; s = 3 9 11 15.
  constexpr std::uint32_t k3 = 0x6ed9eba1;
  constexpr int order3[4] = {0, 2, 1, 3};
  for (int i : order3) {
    a = rotl(a + h(b, c, d) + x[i] + k3, 3);
    d = rotl(d + h(a, b, c) + x[i + 8] + k3, 9);
    c = rotl(c + h(d, a, b) + x[i + 4] + k3, 11);
    b = rotl(b + h(c, d, a) + x[i + 12] + k3, 15);
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  std::memset(x, 0, sizeof x);  // the input is a password
}

}  // namespace

std::array<std::uint8_t, 16> md4(ByteView data) {
  std::uint32_t state[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  std::size_t i = 0;
  for (; i + 64 <= data.size(); i += 64) compress(state, data.data() + i);
  // RFC 1320 §3.1-3.2: 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian.
  std::uint8_t tail[128] = {};
  const std::size_t rest = data.size() - i;
  if (rest > 0) std::memcpy(tail, data.data() + i, rest);
  tail[rest] = 0x80;
  const std::size_t tail_len = rest < 56 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int b = 0; b < 8; ++b) tail[tail_len - 8 + b] = static_cast<std::uint8_t>(bits >> (8 * b));
  compress(state, tail);
  if (tail_len == 128) compress(state, tail + 64);
  std::memset(tail, 0, sizeof tail);

  std::array<std::uint8_t, 16> out{};
  for (int w = 0; w < 4; ++w)
    for (int b = 0; b < 4; ++b) out[4 * w + b] = static_cast<std::uint8_t>(state[w] >> (8 * b));
  return out;
}

}  // namespace natgate::ike
