// Internet checksum (RFC 1071) for the inner packets the engine touches: completing TUN
// CHECKSUM_PARTIAL packets, TCP segments cut from super-packets, MSS clamping (RFC 1624) and the
// ICMP errors it writes back.
//
// Sums are kept in native byte order: a ones' complement sum is byte-order independent (RFC 1071
// §2(B)), so the folded native value stored with memcpy is the network-order checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace natgate::esp {

class Checksum {
 public:
  // Adds bytes; only the last piece of a sum may have an odd length.
  void add(const std::uint8_t* p, std::size_t len) {
    std::uint64_t s = sum_;
    // Four independent accumulators over 32-byte blocks keep the adds from waiting on each
    // other; each adds 32-bit halves into 64 bits, so no carry is lost before the final fold
    // (a segment would need 2^32 blocks to overflow).
    std::uint64_t a = 0, b = 0, c = 0, d = 0;
    while (len >= 32) {
      std::uint64_t w[4];
      std::memcpy(w, p, 32);
      a += (w[0] & 0xFFFFFFFFu) + (w[0] >> 32);
      b += (w[1] & 0xFFFFFFFFu) + (w[1] >> 32);
      c += (w[2] & 0xFFFFFFFFu) + (w[2] >> 32);
      d += (w[3] & 0xFFFFFFFFu) + (w[3] >> 32);
      p += 32;
      len -= 32;
    }
    s += fold32(a) + fold32(b) + fold32(c) + fold32(d);
    while (len >= 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      s += (v & 0xFFFFFFFFu) + (v >> 32);
      p += 8;
      len -= 8;
    }
    while (len >= 2) {
      std::uint16_t w;
      std::memcpy(&w, p, 2);
      s += w;
      p += 2;
      len -= 2;
    }
    if (len == 1) {
      const std::uint8_t last[2] = {p[0], 0};
      std::uint16_t w;
      std::memcpy(&w, last, 2);
      s += w;
    }
    sum_ = s;
  }
  // Adds a 16-bit value given in host order as the network-order word it stands for.
  void add_be16(std::uint16_t v) {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    add(b, 2);
  }
  // The TCP/UDP pseudo-header (RFC 793 §3.1, RFC 8200 §8.1); addr_len 4 or 16.
  void add_pseudo_header(const std::uint8_t* src, const std::uint8_t* dst, std::size_t addr_len,
                         std::uint8_t protocol, std::uint32_t l4_len) {
    add(src, addr_len);
    add(dst, addr_len);
    add_be16(static_cast<std::uint16_t>(l4_len >> 16));
    add_be16(static_cast<std::uint16_t>(l4_len));
    add_be16(protocol);
  }
  // Folds a 64-bit sum of 32-bit words to a value below 2^33 without changing it modulo 0xFFFF.
  static std::uint64_t fold32(std::uint64_t x) { return (x & 0xFFFFFFFFu) + (x >> 32); }
  std::uint16_t folded() const {
    std::uint64_t s = sum_;
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return static_cast<std::uint16_t>(s);
  }
  // Writes the final checksum (the complement) in network order.
  void store(std::uint8_t* field) const {
    const std::uint16_t c = static_cast<std::uint16_t>(~folded());
    std::memcpy(field, &c, 2);
  }
  // Writes the folded sum without complementing: what a CHECKSUM_PARTIAL packet carries in its
  // checksum field (the pseudo-header sum), so the next hop finishes it over the data.
  void store_partial(std::uint8_t* field) const {
    const std::uint16_t f = folded();
    std::memcpy(field, &f, 2);
  }

 private:
  std::uint64_t sum_ = 0;
};

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word m changed to m' (both network order
// as read from the packet).
inline void update_checksum16(std::uint8_t* field, const std::uint8_t old_word[2],
                              const std::uint8_t new_word[2]) {
  std::uint16_t hc, m, m2;
  std::memcpy(&hc, field, 2);
  std::memcpy(&m, old_word, 2);
  std::memcpy(&m2, new_word, 2);
  std::uint32_t s =
      static_cast<std::uint16_t>(~hc) + static_cast<std::uint32_t>(static_cast<std::uint16_t>(~m)) + m2;
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  const std::uint16_t out = static_cast<std::uint16_t>(~s);
  std::memcpy(field, &out, 2);
}

// Completes a CHECKSUM_PARTIAL packet: the field at start + offset holds the pseudo-header sum;
// the checksum over [start, len) is stored there. False if the offsets do not fit in len.
bool complete_partial_checksum(std::uint8_t* pkt, std::size_t len, std::size_t start, std::size_t offset);

}  // namespace natgate::esp
