// ESP-in-UDP framing on the shared NAT-T port (RFC 3948 §2). One socket carries three kinds of
// datagram, told apart by their first bytes:
//   - 0xFF alone: a NAT-keepalive (§2.3), counted and dropped;
//   - four zero bytes (the non-ESP marker, §2.2), then an IKE message;
//   - anything else: ESP, whose first four bytes are the (never zero) SPI (§2.1).
// This file owns only that demultiplexing and the two datagrams natgate builds (marker + IKE, and
// the keepalive). NAT detection (NAT-D hashes) lives elsewhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace natgate::natt {

inline constexpr std::uint16_t kNattPort = 4500;
inline constexpr std::size_t kNonEspMarkerBytes = 4;
// An IKE message is at least its 28-byte header (RFC 7296 §3.1).
inline constexpr std::size_t kMinIkeBytes = 28;
// An ESP packet is at least SPI + sequence number (RFC 4303 §2); the SA decides the rest.
inline constexpr std::size_t kMinEspBytes = 8;
inline constexpr std::uint8_t kKeepaliveByte = 0xFF;

enum class DatagramKind : std::uint8_t {
  Ike,        // payload = the IKE message, marker stripped
  Esp,        // payload = the whole ESP packet; spi set
  Keepalive,  // payload empty
  TooShort,   // dropped: shorter than the smallest datagram of the kind its first bytes announce
};

struct Classified {
  DatagramKind kind = DatagramKind::TooShort;
  ByteView payload;
  std::uint32_t spi = 0;  // host order, Esp only
};

// Pure function of the datagram's bytes; reads nothing past datagram.size().
Classified classify(ByteView datagram);

// marker || ike_message, for sending IKE on port 4500 (RFC 3948 §2.2, RFC 7296 §2.23).
Bytes ike_datagram(ByteView ike_message);
// Writes marker || ike_message into out; returns the length, or 0 when out is too small.
std::size_t write_ike_datagram(ByteView ike_message, MutableByteView out);
// The one-byte NAT-keepalive (RFC 3948 §2.3).
inline constexpr std::array<std::uint8_t, 1> kKeepaliveDatagram = {kKeepaliveByte};

// What a receiver of the shared port counts (single writer, so plain integers).
struct EncapCounters {
  std::uint64_t ike = 0;
  std::uint64_t esp = 0;
  std::uint64_t keepalives = 0;
  std::uint64_t too_short = 0;
  void count(DatagramKind kind);
};

}  // namespace natgate::natt
