// Test-only builders for inner IPv4/IPv6 TCP/UDP/ICMP packets, with checksums computed by a plain
// RFC 1071 loop over big-endian words (deliberately not esp/inner/checksum.h's native-order sums), and
// a verifier built the same way.
#pragma once

#include <cstdint>
#include <string>

#include "common/bytes.h"

namespace natgate::esp::testing {

inline std::uint16_t ones_sum(const Bytes& data, std::size_t from, std::size_t to, std::uint32_t sum = 0) {
  for (std::size_t i = from; i < to; i += 2) {
    const std::uint32_t hi = data[i];
    const std::uint32_t lo = i + 1 < to ? data[i + 1] : 0;
    sum += hi << 8 | lo;
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  put16(b, at, static_cast<std::uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<std::uint16_t>(v));
}
inline std::uint16_t get16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
inline std::uint32_t get32(const Bytes& b, std::size_t at) {
  return std::uint32_t{get16(b, at)} << 16 | get16(b, at + 2);
}

// Pseudo-header sum for an L4 segment starting at l4 in pkt.
inline std::uint32_t pseudo_sum(const Bytes& pkt, bool v4, std::uint8_t proto, std::size_t l4_len) {
  std::uint32_t sum = 0;
  const std::size_t src = v4 ? 12 : 8, n = v4 ? 8 : 32;
  for (std::size_t i = src; i < src + n; i += 2) sum += std::uint32_t{get16(pkt, i)};
  sum += proto;
  sum += static_cast<std::uint32_t>(l4_len >> 16) + static_cast<std::uint32_t>(l4_len & 0xFFFF);
  return sum;
}

// True if the transport checksum of pkt (IPv4 or IPv6 without extension headers) verifies.
inline bool l4_checksum_ok(const Bytes& pkt) {
  const bool v4 = (pkt[0] >> 4) == 4;
  const std::size_t l4 = v4 ? std::size_t{pkt[0] & 0x0Fu} * 4 : 40;
  const std::size_t total = v4 ? get16(pkt, 2) : 40 + std::size_t{get16(pkt, 4)};
  const std::uint8_t proto = v4 ? pkt[9] : pkt[6];
  std::uint32_t start = (proto == 1) ? 0 : pseudo_sum(pkt, v4, proto, total - l4);
  return ones_sum(pkt, l4, total, start) == 0xFFFF;
}
inline bool ipv4_header_ok(const Bytes& pkt) {
  return ones_sum(pkt, 0, std::size_t{pkt[0] & 0x0Fu} * 4) == 0xFFFF;
}

struct TcpSpec {
  bool v4 = true;
  std::string src = "10.1.0.10", dst = "10.2.0.10";
  std::uint16_t sport = 40000, dport = 5201;
  std::uint32_t seq = 1000, ack = 5000;
  std::uint8_t flags = 0x10;  // ACK
  std::uint16_t id = 7;
  bool df = true;
  Bytes options;  // a multiple of 4
  std::size_t payload = 100;
  std::uint8_t fill = 0;  // payload byte i = fill + i
};

Bytes tcp_packet(const TcpSpec& s);
Bytes udp_packet(bool v4, const std::string& src, const std::string& dst, std::uint16_t sport,
                 std::uint16_t dport, std::size_t payload);
Bytes icmp_echo_v4(const std::string& src, const std::string& dst, std::size_t payload, bool df);

}  // namespace natgate::esp::testing
