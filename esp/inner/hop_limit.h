// The IPv4 TTL and IPv6 Hop Limit of an inner packet, for the engine's SA-to-SA relay, which
// forwards like a router: RFC 1812 §5.3.1 (IPv4: decrement, and a packet arriving with TTL <= 1
// is not forwarded but answered with ICMP Time Exceeded) and RFC 8200 §3 (IPv6 Hop Limit, the
// same rule, RFC 4443 §3.3). The relay leaves those answers to the kernel: a packet that may not
// be forwarded goes to the TUN, and the kernel's forwarding sends the ICMP error.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/ip_address.h"
#include "esp/inner/checksum.h"

namespace natgate::esp {

// Field offsets in the fixed IPv4 (RFC 791 §3.1) and IPv6 (RFC 8200 §3) headers.
inline constexpr std::size_t kIpv4TtlOffset = 8;
inline constexpr std::size_t kIpv4ChecksumOffset = 10;
inline constexpr std::size_t kIpv6HopLimitOffset = 7;

// The packet (already checked by parse_inner, so the fixed header is there).
inline std::uint8_t hop_limit(const std::uint8_t* pkt, IpFamily family) {
  return pkt[family == IpFamily::V4 ? kIpv4TtlOffset : kIpv6HopLimitOffset];
}

// Lowers the TTL / Hop Limit by one; for IPv4 the header checksum is updated incrementally
// (RFC 1624; the TTL shares its 16-bit word with the protocol field). The caller checked that it
// is above 1.
inline void decrement_hop_limit(std::uint8_t* pkt, IpFamily family) {
  if (family == IpFamily::V6) {
    --pkt[kIpv6HopLimitOffset];
    return;
  }
  const std::uint8_t old_word[2] = {pkt[kIpv4TtlOffset], pkt[kIpv4TtlOffset + 1]};
  --pkt[kIpv4TtlOffset];
  update_checksum16(pkt + kIpv4ChecksumOffset, old_word, pkt + kIpv4TtlOffset);
}

}  // namespace natgate::esp
